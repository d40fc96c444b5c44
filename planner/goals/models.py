from __future__ import annotations

from datetime import date

from sqlalchemy import Float, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from planner.core.accounts.models import User
from planner.core.db import Base, Timestamped, Versioned
from planner.projects.models import Department

NUMBER = Float()


class Goal(Versioned, Base):
    """Why the company wants a CRM, stated so that success can be judged later."""

    __tablename__ = "goal"
    __table_args__ = (Index("ix_goal_project_position", "project_id", "position", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("project.id", ondelete="CASCADE"))
    statement: Mapped[str] = mapped_column(Text)
    department_id: Mapped[int | None] = mapped_column(
        ForeignKey("department.id", ondelete="SET NULL")
    )
    position: Mapped[int] = mapped_column(default=0)

    department: Mapped[Department | None] = relationship(lazy="raise")
    updated_by: Mapped[User | None] = relationship(foreign_keys="Goal.updated_by_id", lazy="raise")
    kpis: Mapped[list[KPI]] = relationship(
        back_populates="goal", cascade="all, delete-orphan", lazy="raise", order_by="KPI.id"
    )


class KPI(Versioned, Base):
    """A key performance indicator of a goal: from ``baseline`` to ``target`` by ``due_date``."""

    __tablename__ = "kpi"

    id: Mapped[int] = mapped_column(primary_key=True)
    goal_id: Mapped[int] = mapped_column(ForeignKey("goal.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    unit: Mapped[str] = mapped_column(String(40), default="")
    baseline: Mapped[float | None] = mapped_column(NUMBER)
    target: Mapped[float | None] = mapped_column(NUMBER)
    measurement_method: Mapped[str] = mapped_column(Text, default="")
    due_date: Mapped[date | None]

    goal: Mapped[Goal] = relationship(back_populates="kpis", lazy="raise")
    measurements: Mapped[list[Measurement]] = relationship(
        back_populates="kpi",
        cascade="all, delete-orphan",
        lazy="raise",
        order_by="Measurement.measured_on",
    )


class Measurement(Timestamped, Base):
    """A value of a KPI measured on a date; go-live judges success from these."""

    __tablename__ = "kpi_measurement"

    id: Mapped[int] = mapped_column(primary_key=True)
    kpi_id: Mapped[int] = mapped_column(ForeignKey("kpi.id", ondelete="CASCADE"), index=True)
    value: Mapped[float] = mapped_column(NUMBER)
    measured_on: Mapped[date]
    note: Mapped[str] = mapped_column(Text, default="")
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))

    kpi: Mapped[KPI] = relationship(back_populates="measurements", lazy="raise")
