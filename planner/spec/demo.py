"""The specification as the demo rollout has it: the lead has drafted it early, with the
standard sections and a few written (in the languages of the seeds), submitted version 1 for
the board's review and named the executive sponsor to sign; a review comment is still open,
so the version cannot be put up for sign-off yet. ``planner.demo`` calls :func:`load`."""

from __future__ import annotations

from sqlalchemy.orm import Session

from planner.projects.access import Access
from planner.spec import service, signoff
from planner.spec.models import SpecVersion

TEXTS = {
    "current_processes": (
        "- **Sales**: each manager keeps calls in a notebook or a spreadsheet; the head of "
        "sales asks every Friday what happened with each client.\n"
        "- **Customer service**: 投诉通过电话和电子邮件进来，没有统一的记录。 Complaints come "
        "by phone and e-mail, with no single record.\n"
        "- **Marketing**: campaign lists are copied by hand from the sales spreadsheets "
        "(נרצה רשימות קמפיין מתוך רשומות הלקוחות).\n"
        "- **IT**: the legacy Bitrix24 export holds phones in five formats."
    ),
    "security": (
        "**Data classification** (seed 001): 企业需要对所有数据进行分类，区分敏感数据和非敏感"
        "数据。 Customer personal data and transactions are sensitive: encrypted, and seen only "
        "by those the head of each department names.\n\n"
        "**Blocks of information** (seed 000): each manager sees only their own clients; the "
        "head of sales sees the whole pipeline; nobody exports the whole client base."
    ),
    "risks": (
        "1. *Für viele Unternehmen ist der Umzug in ein neues CRM ein verantwortungsbewusster "
        "Schritt*: the pilot group moves first, the rest after its review.\n"
        "2. Requirements that change after sign-off: every change is a new version, signed "
        "again.\n"
        "3. Dirty data from the old CRM: cleaned with a recipe that can be run again."
    ),
}
OPEN_COMMENT = (
    "Who may export customer lists for a campaign? Legal needs the answer before we sign."
)


def load(session: Session, lead: Access, reviewer: Access, signer_ids: list[int]) -> SpecVersion:
    """Draft the demo's specification as ``lead``, submit version 1, name ``signer_ids`` to
    sign it, and leave ``reviewer``'s comment on its security section open."""
    spec = service.start(session, lead)
    for section in spec.sections:
        if section.key in TEXTS:
            service.update_section(
                session,
                lead,
                section,
                version=None,
                title=section.title,
                body=TEXTS[section.key],
            )
    version = service.submit_version(session, lead)
    signoff.set_signers(session, lead, signer_ids, in_order=False)
    security = next(
        n for n, s in enumerate(version.content["sections"], start=1) if s["key"] == "security"
    )
    signoff.add_comment(session, reviewer, version, body=OPEN_COMMENT, anchor=f"section:{security}")
    return version
