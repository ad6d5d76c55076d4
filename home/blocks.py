"""StreamField blocks of the home page's sections."""

from django.utils.translation import gettext_lazy as _
from wagtail import blocks


class TextSectionBlock(blocks.StructBlock):
    heading = blocks.CharBlock(label=_("heading"), max_length=255)
    text = blocks.RichTextBlock(label=_("text"), features=["bold", "italic", "link", "ol", "ul"])

    class Meta:
        icon = "doc-full"
        label = _("Text section")
        template = "home/blocks/text_section.html"


class FeatureBlock(blocks.StructBlock):
    title = blocks.CharBlock(label=_("title"), max_length=120)
    text = blocks.TextBlock(label=_("text"))


class FeaturesBlock(blocks.StructBlock):
    heading = blocks.CharBlock(label=_("heading"), max_length=255, required=False)
    features = blocks.ListBlock(FeatureBlock(), label=_("features"))

    class Meta:
        icon = "list-ul"
        label = _("Features")
        template = "home/blocks/features.html"


class HomeSectionsBlock(blocks.StreamBlock):
    text_section = TextSectionBlock()
    features = FeaturesBlock()
