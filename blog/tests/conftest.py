from blog.tests.fixtures import (  # noqa: F401
    _empty_cache,
    _fast_password_hashing,
    blog_index,
    home_page,
    make_article,
)
