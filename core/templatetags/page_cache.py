"""{% page_hole "name" key=value ... %}: a part of a page rendered per request
(core/page_cache.py); params must be JSON values, they are stored with the page."""

from django import template

from core import page_cache

register = template.Library()


@register.simple_tag(takes_context=True)
def page_hole(context, name, **params):
    return page_cache.hole(context["request"], name, **params)
