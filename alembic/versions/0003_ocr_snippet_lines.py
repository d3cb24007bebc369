"""aio.ocr_snippet: the matching lines of the OCR text, matches marked, instead of ts_headline.

Revision ID: 0003_ocr_snippet_lines
Revises: 0002_ocr_search_function
Create Date: 2026-11-25

ts_headline rebuilds text from parser tokens: with zhparser's short-word emission it repeats
compounds (复旦大学复旦大学附属华山医院华山医院), drops spaces between Latin words and misplaces
phrase highlights. An OCR document is already lines of box text, so the snippet is simply the first
lines that contain a searched word, with each occurrence wrapped in <b>...</b>; excluded words
(-word) are never marked. Text comes back as OCR read it.
"""

from __future__ import annotations

from alembic import op

revision = "0003_ocr_snippet_lines"
down_revision = "0002_ocr_search_function"
branch_labels = None
depends_on = None


# Also restored from here by the downgrade of the revision that replaces it.
OCR_SNIPPET_SQL = r"""
CREATE OR REPLACE FUNCTION aio.ocr_snippet(body text, q tsquery) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
  WITH terms AS (
    -- the query's positive lexemes ('word', not !'word'), longest first so that compounds win
    SELECT DISTINCT m[2] AS term
    FROM regexp_matches(coalesce(q::text, ''), '(!?)''((?:[^'']|'''')+)''', 'g') AS m
    WHERE m[1] = '' AND length(m[2]) > 0
  ),
  pattern AS (
    SELECT string_agg(regexp_replace(replace(term, '''''', ''''), '([.^$*+?()\[\]{}|\\-])', '\\\1', 'g'), '|'
                      ORDER BY length(term) DESC, term) AS alternatives
    FROM terms
  ),
  hits AS (
    SELECT line, n
    FROM unnest(string_to_array(body, E'\n')) WITH ORDINALITY AS l(line, n), pattern
    WHERE alternatives IS NOT NULL AND line ~* alternatives
    ORDER BY n
    LIMIT 2
  )
  -- adjacent marks (the words of a phrase) become one
  SELECT replace(string_agg(regexp_replace(line, '(' || alternatives || ')', '<b>\1</b>', 'gi'), ' … ' ORDER BY n),
                 '</b><b>', '')
  FROM hits, pattern
$$;
"""


def upgrade() -> None:
    op.get_bind().exec_driver_sql(OCR_SNIPPET_SQL)


def downgrade() -> None:
    op.get_bind().exec_driver_sql("""
CREATE OR REPLACE FUNCTION aio.ocr_snippet(body text, q tsquery) RETURNS text LANGUAGE sql STABLE PARALLEL SAFE
SET zhparser.multi_short = on
AS $$ SELECT ts_headline('aio.zh', body, q, 'MaxFragments=2, MaxWords=20, MinWords=5, StartSel=<b>, StopSel=</b>') $$;
""")
