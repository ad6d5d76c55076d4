"""Demo content of the home page in English and its Russian translation.
Idempotent; an editor's text is never overwritten."""

from wagtail.models import GroupPagePermission, Locale

from home.models import HomePage

CONTENT = {
    "en": {
        "title": "Mailsite",
        "hero_title": "Mailings that reach your clients",
        "hero_intro": (
            "Keep your client list, write a message once and send it once, daily, weekly or monthly. "
            "Every attempt is recorded with the mail server's reply."
        ),
        "sections": [
            (
                "features",
                {
                    "heading": "Why Mailsite",
                    "features": [
                        {"title": "Schedules", "text": "Send once, or every day, week or month between two dates."},
                        {"title": "Honest reports", "text": "Each attempt is stored with the server's reply."},
                        {
                            "title": "Safe retries",
                            "text": "A flaky mail server delays a message; it never loses a recipient.",
                        },
                    ],
                },
            ),
            (
                "text_section",
                {
                    "heading": "How it works",
                    "text": "<p>Import your clients, write a message and choose when it goes out. "
                    "Our workers do the sending while you do something else.</p>",
                },
            ),
        ],
    },
    "ru": {
        "title": "Mailsite",
        "hero_title": "Рассылки, которые доходят до ваших клиентов",
        "hero_intro": (
            "Ведите список клиентов, напишите сообщение один раз и отправляйте его однократно, "
            "ежедневно, еженедельно или ежемесячно. Каждая попытка сохраняется вместе с ответом почтового сервера."
        ),
        "sections": [
            (
                "features",
                {
                    "heading": "Почему Mailsite",
                    "features": [
                        {
                            "title": "Расписания",
                            "text": "Один раз или каждый день, неделю или месяц между двумя датами.",
                        },
                        {"title": "Честные отчёты", "text": "Каждая попытка хранится вместе с ответом сервера."},
                        {
                            "title": "Надёжные повторы",
                            "text": "Капризный почтовый сервер задержит письмо, но ни один получатель не потеряется.",
                        },
                    ],
                },
            ),
            (
                "text_section",
                {
                    "heading": "Как это работает",
                    "text": "<p>Загрузите клиентов, напишите сообщение и выберите, когда его отправить. "
                    "Наши обработчики займутся отправкой, пока вы заняты другим.</p>",
                },
            ),
        ],
    },
}


def _fill(page: HomePage, language: str) -> None:
    content = CONTENT[language]
    page.title = content["title"]
    page.hero_title = content["hero_title"]
    page.hero_intro = content["hero_intro"]
    page.sections = content["sections"]
    page.save_revision().publish()


def home_in(language: str) -> HomePage | None:
    """The home page in this language, translating the default one if needed."""
    home = HomePage.objects.filter(locale__language_code="en").first() or HomePage.objects.first()
    if home is None or language == home.locale.language_code:
        return home
    locale, _ = Locale.objects.get_or_create(language_code=language)
    translation = HomePage.objects.filter(translation_key=home.translation_key, locale=locale).first()
    if translation is None:
        translation = home.copy_for_translation(locale)
        # A sibling tree: the groups that may edit the English site may edit this one too.
        for grant in GroupPagePermission.objects.filter(page=home):
            GroupPagePermission.objects.get_or_create(group=grant.group, page=translation, permission=grant.permission)
    return translation


def load(stdout):
    if HomePage.objects.first() is None:
        stdout.write("No home page: run the migrations first.")
        return
    for language in CONTENT:
        home = home_in(language)
        if home.live and home.hero_intro:
            continue
        _fill(home, language)
        stdout.write(f"Home page content loaded ({language}).")
