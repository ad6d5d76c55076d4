from wagtail.models import Page


class HomePage(Page):
    """The site root."""

    max_count = 1
    template = "home/home_page.html"
