from blog.tests.fixtures import (  # noqa: F401
    _empty_cache,
    blog_index,
    home_page,
    make_article,
)
