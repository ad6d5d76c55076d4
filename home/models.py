from django.db import models
from django.utils.translation import gettext_lazy as _
from wagtail.admin.panels import FieldPanel, MultiFieldPanel
from wagtail.fields import StreamField
from wagtail.models import Locale, Page

from core.page_cache import CachedPage
from home.blocks import HomeSectionsBlock


class HomePage(CachedPage, Page):
    """The site root: an editable hero and sections, the service's numbers and three random articles."""

    hero_title = models.CharField(
        _("hero title"), max_length=255, blank=True, help_text=_("Leave empty to use the page title.")
    )
    hero_intro = models.TextField(_("hero introduction"), blank=True)
    sections = StreamField(HomeSectionsBlock(), verbose_name=_("sections"), blank=True)

    content_panels = [
        *Page.content_panels,
        MultiFieldPanel([FieldPanel("hero_title"), FieldPanel("hero_intro")], heading=_("Hero")),
        FieldPanel("sections"),
    ]
    parent_page_types = ["wagtailcore.Page"]
    template = "home/home_page.html"

    class Meta:
        verbose_name = _("home page")

    @classmethod
    def can_create_at(cls, parent):
        # One home page per language: the others are its translations.
        return super().can_create_at(parent) and cls.objects.count() < Locale.objects.count()

    # The numbers (the same in every language) and the three random articles of
    # this page's language (its subtree) are holes, rendered per request: home.holes.
