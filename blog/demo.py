"""Demo blog: the index at /en/blog/ and /ru/blog/, seven articles in both
languages, with pictures drawn by Pillow. Idempotent."""

import io
from datetime import timedelta

from django.core.files.images import ImageFile
from django.utils import timezone
from PIL import Image as PILImage
from PIL import ImageDraw, ImageFont
from wagtail.images.models import Image
from wagtail.models import Locale

from blog.models import BlogIndexPage, BlogPage
from home.demo import home_in
from home.models import HomePage

# slug, English title, Russian title, picture colour
ARTICLES = [
    (
        "why-schedules-beat-reminders",
        "Why schedules beat reminders",
        "Почему расписание лучше напоминаний",
        (37, 99, 235),
    ),
    ("reading-smtp-replies", "Reading a mail server's replies", "Как читать ответы почтового сервера", (22, 163, 74)),
    ("clean-client-lists", "Five habits of clean client lists", "Пять привычек чистого списка клиентов", (217, 119, 6)),
    ("retries-without-duplicates", "Retries without duplicates", "Повторные попытки без дублей", (220, 38, 38)),
    (
        "monthly-newsletters",
        "A monthly newsletter people open",
        "Ежемесячная рассылка, которую открывают",
        (124, 58, 237),
    ),
    (
        "measuring-what-matters",
        "Measuring what matters in a mailing",
        "Что на самом деле стоит измерять в рассылке",
        (8, 145, 178),
    ),
    (
        "subject-lines",
        "Subject lines that say what is inside",
        "Темы писем, которые говорят, что внутри",
        (190, 24, 93),
    ),
]

INDEX = {
    "en": {"title": "Blog", "intro": "News, advice and stories about email mailings."},
    "ru": {"title": "Блог", "intro": "Новости, советы и истории об email-рассылках."},
}


# Pillow's built-in font has no Cyrillic; Debian's DejaVu has, when it is installed.
FONT_PATHS = ["/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf", "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"]


def _font(size: int):
    for path in FONT_PATHS:
        try:
            return ImageFont.truetype(path, size)
        except OSError:
            continue
    return None


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
    font = _font(48)
    if font is not None or title.isascii():
        draw.text((60, height - 120), title, fill="white", font=font, font_size=48)
    buffer = io.BytesIO()
    picture.save(buffer, format="PNG")
    slug = title.lower().replace(" ", "-").replace("'", "")[:60]
    return Image.objects.create(title=title, file=ImageFile(buffer, name=f"demo-{slug}.png"))


def body_for(title: str, language: str = "en"):
    if language == "ru":
        return _body_ru(title)
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


def _body_ru(title: str):
    return [
        (
            "paragraph",
            f"<p>«{title}» — один из вопросов, которые клиенты задают нам чаще всего. Вот что мы узнали.</p>",
        ),
        ("heading", "Что мы увидели"),
        (
            "paragraph",
            (
                "<p>Большинство рассылок уходит вовремя. Те, что задерживаются, обычно натыкаются на занятый "
                "почтовый сервер, и им нужна лишь терпеливая повторная попытка.</p><ul><li>Держите списки "
                "короткими и актуальными.</li><li>Отправляйте тогда, когда клиенты читают почту.</li>"
                "<li>Читайте ответы сервера.</li></ul>"
            ),
        ),
        ("quote", {"text": "Рассылка — это обещание, выполненное по расписанию.", "source": "Команда Mailsite"}),
        ("heading", "Что делать дальше"),
        ("paragraph", "<p>Откройте панель управления, посмотрите последний отчёт и выберите одно, что улучшить.</p>"),
    ]


def intro_for(title: str, language: str) -> str:
    if language == "ru":
        return f"{title}: короткое чтение для тех, кто отправляет рассылки."
    return f"{title}: a short read for people who send mailings."


def blog_index() -> BlogIndexPage:
    """The English blog index at /en/blog/, created under the English home page."""
    index = BlogIndexPage.objects.filter(slug="blog", locale__language_code="en").first()
    if index is not None:
        return index
    home = home_in("en")
    index = BlogIndexPage(slug="blog", **INDEX["en"])
    home.add_child(instance=index)
    index.save_revision().publish()
    return index


def _translate(page, language: str, **fields):
    """The page's translation into `language` (made with Wagtail's copy_for_translation), filled and published once."""
    locale = Locale.objects.get(language_code=language)
    translation = page.get_translation_or_none(locale)
    if translation is not None and translation.live:
        return translation, False
    translation = translation or page.copy_for_translation(locale)
    for name, value in fields.items():
        setattr(translation, name, value)
    translation.save_revision().publish()
    return translation, True


def load(stdout):
    if HomePage.objects.first() is None:
        stdout.write("No home page: run the migrations first.")
        return
    index = blog_index()
    home_in("ru")  # the Russian home page must exist before the Russian blog below it
    _translate(index, "ru", **INDEX["ru"])
    today = timezone.localdate()
    created = 0
    for days_ago, (slug, title, title_ru, colour) in enumerate(ARTICLES):
        article = BlogPage.objects.filter(slug=slug, locale=index.locale).first()
        if article is None:
            article = BlogPage(
                title=title,
                slug=slug,
                date=today - timedelta(days=7 * days_ago),
                intro=intro_for(title, "en"),
                image=demo_image(title, colour),
                body=body_for(title),
            )
            index.add_child(instance=article)
            article.save_revision().publish()
            created += 1
        _article_ru, new = _translate(
            article,
            "ru",
            title=title_ru,
            intro=intro_for(title_ru, "ru"),
            image=demo_image(title_ru, colour),
            body=body_for(title_ru, "ru"),
        )
        created += new
    stdout.write(f"Blog: {BlogPage.objects.live().count()} published articles in two languages ({created} new).")
