"""oversight: typical cases for publication; statistics rollup; covering indexes for the scans

``stats_rollup`` / ``stats_refresh``: the pre-aggregated figures the dashboard reads at scale
(oversight/rollup.py), district-wide and per sector and per town (``scope``, first in the key).
``ix_report_stats`` (+ ``_sector`` / ``_town``) / ``ix_case_record_stats`` cover the columns the
live statistics (a stale rollup, or a sector and a town together) and the rollup refresh group, so those read narrow index-only
scans instead of the wide heaps (sealed blobs); ``ix_case_record_hazard`` (partial: confirmed
hazards) serves the ledger's found-date range and count (bench/oversight_scale.py,
docs/benchmarks.md).

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

import models.base

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

REPORT_INCLUDE = ["department_id", "sector", "town_code", "report_type", "urgency", "channel", "anonymous", "internal",
                  "status", "is_open", "due_on", "supervised"]
CASE_INCLUDE = ["accepted_at", "checked_at", "conclusion", "hazard_level", "rectification_due", "signed_off_at",
                "transfers"]


def upgrade() -> None:
    op.create_table(
        "typical_case",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=80), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("sector", sa.String(length=40), nullable=True),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=False),
        sa.Column("created_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("published_at", models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("published_by", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["created_by"], ["staff_user.id"], name=op.f("fk_typical_case_created_by_staff_user")),
        sa.ForeignKeyConstraint(["published_by"], ["staff_user.id"], name=op.f("fk_typical_case_published_by_staff_user")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_typical_case")),
    )
    op.create_index(op.f("ix_typical_case_status"), "typical_case", ["status"], unique=False)
    counts = ["received", "accepted", "not_accepted", "transferred", "checked", "confirmed", "major",
              "rectification_ordered", "signed_off", "closed", "open", "overdue", "rectification_overdue", "supervised"]
    op.create_table(
        "stats_rollup",
        sa.Column("scope", sa.String(length=48), nullable=False),
        sa.Column("grain", sa.String(length=1), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("department_id", sa.Integer(), nullable=False),
        sa.Column("dim", sa.String(length=12), nullable=False),
        sa.Column("value", sa.String(length=40), nullable=False),
        *[sa.Column(name, sa.Integer(), nullable=False) for name in counts],
        sa.Column("check_days_sum", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("scope", "grain", "day", "department_id", "dim", "value", name=op.f("pk_stats_rollup")),
    )
    op.create_table(
        "stats_refresh",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("since", sa.Date(), nullable=True),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("started_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("finished_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stats_refresh")),
    )
    op.create_index(op.f("ix_stats_refresh_finished_at"), "stats_refresh", ["finished_at"], unique=False)
    op.create_index("ix_report_stats", "report", ["filed_at", "id"], postgresql_include=REPORT_INCLUDE)
    op.create_index("ix_report_stats_sector", "report", ["sector", "filed_at", "id"], postgresql_include=REPORT_INCLUDE)
    op.create_index("ix_report_stats_town", "report", ["town_code", "filed_at", "id"], postgresql_include=REPORT_INCLUDE)
    op.create_index("ix_case_record_stats", "case_record", ["report_id"], postgresql_include=CASE_INCLUDE)
    hazard = sa.text("conclusion IN ('confirmed', 'partly') AND hazard_level IN ('major', 'general')")
    op.create_index("ix_case_record_hazard", "case_record", ["checked_at", "report_id"],
                    postgresql_include=["hazard_level", "signed_off_at", "rectification_due"],
                    postgresql_where=hazard, sqlite_where=hazard)


def downgrade() -> None:
    op.drop_index(op.f("ix_stats_refresh_finished_at"), table_name="stats_refresh")
    op.drop_table("stats_refresh")
    op.drop_table("stats_rollup")
    op.drop_index("ix_case_record_hazard", table_name="case_record")
    op.drop_index("ix_case_record_stats", table_name="case_record")
    op.drop_index("ix_report_stats_town", table_name="report")
    op.drop_index("ix_report_stats_sector", table_name="report")
    op.drop_index("ix_report_stats", table_name="report")
    op.drop_index(op.f("ix_typical_case_status"), table_name="typical_case")
    op.drop_table("typical_case")
