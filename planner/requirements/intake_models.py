"""Department intake: questionnaires each department answers, and interview notes; the
sources a requirement is traced back to."""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from planner.core.accounts.models import User
from planner.core.db import Base, Timestamped, UTCDateTime, Versioned, str_enum
from planner.projects.models import Department


class QuestionKind(enum.StrEnum):
    TEXT = "text"
    SINGLE = "single"  # one of the options
    MULTIPLE = "multiple"  # any of the options
    IMPORTANCE = "importance"  # 1 (nice to have) to 5 (essential)


class ResponseStatus(enum.StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"


class IntervieweeRole(enum.StrEnum):
    FRONTLINE = "frontline"
    MANAGER = "manager"


class Questionnaire(Versioned, Base):
    """The questions one department of the rollout is asked about its needs."""

    __tablename__ = "questionnaire"
    __table_args__ = (UniqueConstraint("project_id", "department_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("project.id", ondelete="CASCADE"))
    department_id: Mapped[int] = mapped_column(ForeignKey("department.id", ondelete="CASCADE"))
    intro: Mapped[str] = mapped_column(Text, default="")
    open: Mapped[bool] = mapped_column(Boolean, default=True)

    department: Mapped[Department] = relationship(lazy="raise")
    questions: Mapped[list[Question]] = relationship(
        back_populates="questionnaire",
        cascade="all, delete-orphan",
        lazy="raise",
        order_by="Question.position, Question.id",
    )


class Question(Timestamped, Base):
    """One question of a questionnaire; ``options`` for the kinds with choices."""

    __tablename__ = "question"

    id: Mapped[int] = mapped_column(primary_key=True)
    questionnaire_id: Mapped[int] = mapped_column(
        ForeignKey("questionnaire.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(default=0)
    text: Mapped[str] = mapped_column(Text)
    kind: Mapped[QuestionKind] = mapped_column(str_enum(QuestionKind, "question_kind"))
    options: Mapped[list[str]] = mapped_column(JSON, default=list)

    questionnaire: Mapped[Questionnaire] = relationship(back_populates="questions", lazy="raise")


class Response(Versioned, Base):
    """One person's answers to their department's questionnaire: a draft until submitted."""

    __tablename__ = "questionnaire_response"
    __table_args__ = (UniqueConstraint("questionnaire_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    questionnaire_id: Mapped[int] = mapped_column(
        ForeignKey("questionnaire.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    status: Mapped[ResponseStatus] = mapped_column(
        str_enum(ResponseStatus, "response_status"), default=ResponseStatus.DRAFT
    )
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship(foreign_keys=[user_id], lazy="raise")
    answers: Mapped[list[Answer]] = relationship(
        back_populates="response", cascade="all, delete-orphan", lazy="raise"
    )


class Answer(Base):
    """The answer to one question: text, the options chosen, or an importance."""

    __tablename__ = "answer"
    __table_args__ = (UniqueConstraint("response_id", "question_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    response_id: Mapped[int] = mapped_column(
        ForeignKey("questionnaire_response.id", ondelete="CASCADE")
    )
    question_id: Mapped[int] = mapped_column(ForeignKey("question.id", ondelete="CASCADE"))
    text: Mapped[str] = mapped_column(Text, default="")
    choices: Mapped[list[str]] = mapped_column(JSON, default=list)
    importance: Mapped[int | None]

    response: Mapped[Response] = relationship(back_populates="answers", lazy="raise")
    question: Mapped[Question] = relationship(lazy="raise")

    def as_text(self) -> str:
        """The answer in words, whatever its kind."""
        parts = [self.text.strip()] if self.text.strip() else []
        if self.choices:
            parts.append(", ".join(self.choices))
        if self.importance is not None:
            parts.append(f"importance {self.importance} of 5")
        return "; ".join(parts)


class Interview(Versioned, Base):
    """Notes of a face-to-face interview with someone of a department."""

    __tablename__ = "interview"

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(
        ForeignKey("project.id", ondelete="CASCADE"), index=True
    )
    department_id: Mapped[int] = mapped_column(ForeignKey("department.id", ondelete="CASCADE"))
    interviewee: Mapped[str] = mapped_column(String(120))
    role: Mapped[IntervieweeRole] = mapped_column(str_enum(IntervieweeRole, "interviewee_role"))
    held_on: Mapped[date]
    notes: Mapped[str] = mapped_column(Text, default="")

    department: Mapped[Department] = relationship(lazy="raise")


class RequirementSource(Base):
    """Where a requirement came from: an answer or an interview (exactly one of them)."""

    __tablename__ = "requirement_source"
    __table_args__ = (UniqueConstraint("requirement_id", "answer_id", "interview_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    requirement_id: Mapped[int] = mapped_column(
        ForeignKey("requirement.id", ondelete="CASCADE"), index=True
    )
    answer_id: Mapped[int | None] = mapped_column(
        ForeignKey("answer.id", ondelete="SET NULL"), index=True
    )
    interview_id: Mapped[int | None] = mapped_column(
        ForeignKey("interview.id", ondelete="SET NULL"), index=True
    )
    quote: Mapped[str] = mapped_column(Text, default="")  # what the source said, kept as it was

    answer: Mapped[Answer | None] = relationship(lazy="raise")
    interview: Mapped[Interview | None] = relationship(lazy="raise")

    def describe(self) -> dict[str, Any]:
        return {"answer_id": self.answer_id, "interview_id": self.interview_id, "quote": self.quote}
