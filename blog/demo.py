"""Demo blog: the index at /blog/ and six articles with pictures drawn by Pillow. Idempotent."""

import io
from datetime import timedelta

from django.core.files.images import ImageFile
from django.utils import timezone
from PIL import Image as PILImage
from PIL import ImageDraw
from wagtail.images.models import Image

from blog.models import BlogIndexPage, BlogPage
from home.models import HomePage

ARTICLES = [
    ("why-schedules-beat-reminders", "Why schedules beat reminders", (37, 99, 235)),
    ("reading-smtp-replies", "Reading a mail server's replies", (22, 163, 74)),
    ("clean-client-lists", "Five habits of clean client lists", (217, 119, 6)),
    ("retries-without-duplicates", "Retries without duplicates", (220, 38, 38)),
    ("monthly-newsletters", "A monthly newsletter people open", (124, 58, 237)),
    ("measuring-what-matters", "Measuring what matters in a mailing", (8, 145, 178)),
    ("subject-lines", "Subject lines that say what is inside", (190, 24, 93)),
]


def demo_image(title: str, colour: tuple[int, int, int], size: tuple[int, int] = (1200, 630)) -> Image:
    """A Wagtail image drawn by Pillow: a gradient in `colour` with the title on it."""
    existing = Image.objects.filter(title=title).first()
    if existing is not None:
        return existing
    width, height = size
    picture = PILImage.new("RGB", size)
    draw = ImageDraw.Draw(picture)
    for x in range(width):
        shade = x / width
        draw.line([(x, 0), (x, height)], fill=tuple(int(c + (255 - c) * shade * 0.6) for c in colour))
    draw.ellipse((width * 0.62, height * 0.15, width * 0.92, height * 0.72), outline="white", width=8)
    draw.text((60, height - 120), title, fill="white", font_size=48)
    buffer = io.BytesIO()
    picture.save(buffer, format="PNG")
    slug = title.lower().replace(" ", "-").replace("'", "")[:60]
    return Image.objects.create(title=title, file=ImageFile(buffer, name=f"demo-{slug}.png"))


def body_for(title: str):
    return [
        ("paragraph", f"<p>{title} is one of the questions our customers ask most. Here is what we learned.</p>"),
        ("heading", "What we saw"),
        (
            "paragraph",
            (
                "<p>Most mailings go out on time. The ones that do not usually meet a busy mail server, "
                "and a patient retry is all they need.</p><ul><li>Keep lists short and current.</li>"
                "<li>Send when your clients read.</li><li>Read the replies.</li></ul>"
            ),
        ),
        ("quote", {"text": "A mailing is a promise kept on schedule.", "source": "The Mailsite team"}),
        ("heading", "What to do next"),
        ("paragraph", "<p>Open your dashboard, look at the last report and pick one thing to improve.</p>"),
    ]


def blog_index() -> BlogIndexPage:
    index = BlogIndexPage.objects.filter(slug="blog").first()
    if index is not None:
        return index
    home = HomePage.objects.first()
    index = BlogIndexPage(title="Blog", slug="blog", intro="News, advice and stories about email mailings.")
    home.add_child(instance=index)
    index.save_revision().publish()
    return index


def load(stdout):
    if HomePage.objects.first() is None:
        stdout.write("No home page: run the migrations first.")
        return
    index = blog_index()
    today = timezone.localdate()
    created = 0
    for days_ago, (slug, title, colour) in enumerate(ARTICLES):
        if BlogPage.objects.filter(slug=slug).exists():
            continue
        article = BlogPage(
            title=title,
            slug=slug,
            date=today - timedelta(days=7 * days_ago),
            intro=f"{title}: a short read for people who send mailings.",
            image=demo_image(title, colour),
            body=body_for(title),
        )
        index.add_child(instance=article)
        article.save_revision().publish()
        created += 1
    stdout.write(f"Blog: {BlogPage.objects.live().count()} published articles ({created} new).")
