"""The admin list view: a bad filter value in the query string is a message, never a 500."""

from django.contrib.admin.options import IncorrectLookupParameters
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from wagtail.admin import messages
from wagtail_modeladmin.views import IndexView


class FilterSafeIndexView(IndexView):
    """wagtail-modeladmin lets IncorrectLookupParameters escape (Django's admin
    redirects instead): show the list without the filters and say why."""

    def dispatch(self, request, *args, **kwargs):
        try:
            return super().dispatch(request, *args, **kwargs)
        except IncorrectLookupParameters:
            messages.error(request, _("These filters are not valid; the list is shown without them."))
            return redirect(request.path)
