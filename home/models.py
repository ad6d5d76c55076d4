from django.db import models
from django.utils.translation import gettext_lazy as _
from wagtail.admin.panels import FieldPanel, MultiFieldPanel
from wagtail.fields import StreamField
from wagtail.models import Locale, Page

from blog.models import BlogPage
from home.blocks import HomeSectionsBlock
from home.stats import home_stats

RANDOM_ARTICLES = 3


class HomePage(Page):
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

    def get_context(self, request, *args, **kwargs):
        context = super().get_context(request, *args, **kwargs)
        # The same numbers in every language; the articles of this page's language (its subtree).
        context["stats"] = home_stats()
        context["articles"] = BlogPage.random_published(RANDOM_ARTICLES, under=self.path)
        return context
