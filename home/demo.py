"""Demo content of the home page: hero and sections. Idempotent; an editor's text is never overwritten."""

from home.models import HomePage

HERO_TITLE = "Mailings that reach your clients"
HERO_INTRO = (
    "Keep your client list, write a message once and send it once, daily, weekly or monthly. "
    "Every attempt is recorded with the mail server's reply."
)
SECTIONS = [
    (
        "features",
        {
            "heading": "Why Mailsite",
            "features": [
                {"title": "Schedules", "text": "Send once, or every day, week or month between two dates."},
                {"title": "Honest reports", "text": "Each attempt is stored with the server's reply."},
                {"title": "Safe retries", "text": "A flaky mail server delays a message; it never loses a recipient."},
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
]


def load(stdout):
    home = HomePage.objects.first()
    if home is None:
        stdout.write("No home page: run the migrations first.")
        return
    if home.hero_intro:
        return
    home.hero_title = HERO_TITLE
    home.hero_intro = HERO_INTRO
    home.sections = SECTIONS
    home.save_revision().publish()
    stdout.write("Home page content loaded.")
