"""The blog's RSS feed (django.contrib.syndication), served by BlogIndexPage at
feed/. It reads only through the index page it is given, so it imports no model."""

from django.contrib.syndication.views import Feed
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

FEED_LENGTH = 20


class BlogFeed(Feed):
    def __init__(self, index_page):
        super().__init__()
        self.index_page = index_page

    def get_object(self, request, *args, **kwargs):
        self.request = request
        return self.index_page

    def title(self, index_page):
        return index_page.title

    def link(self, index_page):
        return index_page.get_url(self.request)

    def description(self, index_page):
        return index_page.intro or _("The latest articles of the Mailsite blog.")

    def items(self, index_page):
        return index_page.latest_articles(FEED_LENGTH)

    def item_title(self, item):
        return item.title

    def item_description(self, item):
        return item.intro

    def item_link(self, item):
        return item.get_url(self.request)

    def item_pubdate(self, item):
        return item.first_published_at or timezone.now()

    def item_updateddate(self, item):
        return item.last_published_at
