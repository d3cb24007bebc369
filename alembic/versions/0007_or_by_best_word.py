"""Words joined by OR: each match ranked by the best of its words, read from the top of the words' lists.

Revision ID: 0007_or_by_best_word
Revises: 0006_code_and_character_lists
Create Date: 2026-12-06

Until now an OR of listed words (发票 OR 收据) summed the ranks of its words from their lists. A sum orders
nothing until every row of every list is added up: at 100 000 photos, 20 common words joined by OR read 315 000
rows into 95 000 sums before the first page (200 ms), and 2.6 s at 1 000 000.

Now a match of such a query is ranked by the best of its words in it: the rank of the list it is read from,
as every other list read ranks its matches. The lists of the words are merged by rank (one ordered index scan
per word), so Immich's LIMIT stops the read after the first page. A row is kept only where no other word of
the query ranks higher in that photo (ties: the word first in text order), so that each photo comes once, at
its best word. That check looks the photo's other words up by asset, in a new partial index of the Chinese
words (ocr_word_by_asset: a tenth of the lists' size).
- The same photos match; the order changes only for photos that hold several of the words: the sum ranked
  them above photos that hold one of them as strongly.
- A query of more than OR_WORDS_READ words is ranked as any query without a list (split, or every match).
- Reading every match (a count, an OCR filter under another order) checks each row: about 4 us a row, so
  20 common words at 100 000 photos take 1.2 s, where the sum took 0.12 s. The first page is what a
  search waits for.

The merge sits behind a sub-select with its own ORDER BY, which PostgreSQL plans apart (it reads the lists in
order there) and leaves out, unplanned and unparsed, for any query that is not such an OR: the branch's
condition is a constant of the outer query. The check is a correlated sub-select under an OR, not a join: so
the planner keeps it a per-row filter (an anti-join would hash every list before the first row).
"""

from __future__ import annotations

from pathlib import Path

from alembic import op
from sidecar.db import earlier_revision

revision = "0007_or_by_best_word"
down_revision = "0006_code_and_character_lists"
branch_labels = None
depends_on = None

PREVIOUS = earlier_revision(Path(__file__).with_name("0006_code_and_character_lists.py"))
CHINESE_WORD = PREVIOUS.CHINESE_WORD
# One ordered read per word and kind of document, spelt out in aio.or_matches: a query of more words is ranked
# as any query without a list. Only OR queries pay for parsing them.
OR_WORDS_READ = 32

# 0006's aio.search_plan, with the words of an OR distinct (a word typed twice would be read twice) and at most
# OR_WORDS_READ of them.
OR_WORDS_STEP = f"""    IF cardinality(plan.or_words) > {OR_WORDS_READ} THEN
      plan.or_words := NULL;
    END IF;
"""
SEARCH_PLAN_SQL = PREVIOUS.SEARCH_PLAN_SQL.replace(
    "SELECT array_agg(substr(", "SELECT array_agg(DISTINCT substr(", 1
).replace(
    "      plan.or_words := NULL;\n    END IF;\n", "      plan.or_words := NULL;\n    END IF;\n" + OR_WORDS_STEP, 1
)
assert "array_agg(DISTINCT substr(" in SEARCH_PLAN_SQL and OR_WORDS_STEP in SEARCH_PLAN_SQL


UNREADABLE_LIMIT = (
    "LIMIT (SELECT NULL::bigint)"  # no limit, but not a constant: the planner assumes a tenth of the rows
)


def _or_reads() -> str:
    """For each word of the OR, its list in rank order: for a query typed plain, every document as listed; for
    one typed otherwise, plain documents as listed and the others x2.25 (as aio.ocr_search's branches 1-3).
    `place` and `plain_order` are constants of each read, so the planner leaves out the reads a query does not
    use without planning them; `listed` is the rank as stored, which the check compares. Each read is planned
    apart, for all its rows (Immich's LIMIT does not reach it): a LIMIT it cannot read, which is no limit at run
    time, makes it plan for a tenth of them, so that it reads the list in order even where recent rows are not yet
    marked all-visible (a bitmap scan and a sort would read the whole list first)."""
    word = "w.word = (aio.search_plan(q)).or_words[{place}] AND w.is_word"
    reads = []
    for place in range(1, OR_WORDS_READ + 1):
        where = word.format(place=place)
        reads += [
            f"SELECT {place} AS place, true AS plain_order, r.* FROM (SELECT w.asset_id, w.word, w.rank AS listed, "
            f"w.rank FROM aio.ocr_word AS w WHERE {where} ORDER BY w.rank DESC {UNREADABLE_LIMIT}) AS r",
            f"SELECT {place}, false, r.* FROM (SELECT w.asset_id, w.word, w.rank, w.rank FROM aio.ocr_word AS w "
            f"WHERE {where} AND w.plain ORDER BY w.rank DESC {UNREADABLE_LIMIT}) AS r",
            f"SELECT {place}, false, r.* FROM (SELECT w.asset_id, w.word, w.rank, w.rank * 2.25::real "
            f"FROM aio.ocr_word AS w WHERE {where} AND NOT w.plain "
            f"ORDER BY w.rank * 2.25::real DESC {UNREADABLE_LIMIT}) AS r",
        ]
    return "\n    UNION ALL\n    ".join(reads)


OR_MATCHES_SQL = f"""
-- The matches of listed words joined by OR (aio.search_plan's or_words), each once, ranked by the best of its
-- words: the words' lists merged by rank, a row kept where no other word of the query ranks higher in that
-- document (ties: the word first in text order). The check is under an OR so that it stays a filter on each
-- row read (the planner turns only a bare NOT EXISTS into a join, which would hash every list first).
CREATE FUNCTION aio.or_matches(q text)
RETURNS TABLE (asset_id uuid, rank real)
LANGUAGE sql STABLE PARALLEL RESTRICTED ROWS 1000
AS $$
  SELECT m.asset_id, m.rank
  FROM (
    {_or_reads()}
  ) AS m
  WHERE m.place <= cardinality((aio.search_plan(q)).or_words)
    AND m.plain_order = (aio.search_plan(q)).typed_plain
    AND ((aio.search_plan(q)).or_words IS NULL OR NOT EXISTS (
      SELECT 1 FROM aio.ocr_word AS x
      WHERE x.asset_id = m.asset_id AND x.rank >= m.listed AND x.is_word AND x.word ~ '{CHINESE_WORD}'
        AND x.word = ANY ((aio.search_plan(q)).or_words) AND (x.rank > m.listed OR x.word < m.word)))
$$;

"""
# 0006's branch 5, the sum: from its SELECT to the end of the UNION.
SUM_BRANCH = PREVIOUS.OCR_SEARCH_SQL[
    PREVIOUS.OCR_SEARCH_SQL.index("    SELECT 5, ") : PREVIOUS.OCR_SEARCH_SQL.index("  ) AS u\n")
]
assert "sum(" in SUM_BRANCH and "GROUP BY w.asset_id" in SUM_BRANCH
BEST_WORD_BRANCH = """    SELECT 5, o.asset_id, o.rank, '', NULL, NULL, NULL
    FROM (SELECT m.asset_id, m.rank FROM aio.or_matches(q) AS m ORDER BY m.rank DESC) AS o
"""
# 0006's aio.ocr_search with branch 5 read from aio.or_matches. The sub-select's ORDER BY keeps it apart: it is
# planned (and aio.or_matches inlined) only where the branch's condition holds, that is for an OR of words.
OCR_SEARCH_SQL = (
    PREVIOUS.OCR_SEARCH_SQL.replace(SUM_BRANCH, BEST_WORD_BRANCH, 1)
    .replace(
        "-- 5. listed words joined by OR: the sum of their ranks from their lists.",
        "-- 5. listed words joined by OR: each match by the best of its words, from their lists (aio.or_matches).",
        1,
    )
    .replace("-- As in 0005, except branch 4:", "-- As in 0006, except branch 5. As in 0005, except branch 4:", 1)
)
assert BEST_WORD_BRANCH in OCR_SEARCH_SQL and "(aio.or_matches)" in OCR_SEARCH_SQL

# The other words of a document, by asset, for the check: only the Chinese words, as the words of an OR are.
INDEX_SQL = f"""
CREATE INDEX ocr_word_by_asset ON aio.ocr_word (asset_id, rank DESC) INCLUDE (word)
  WHERE is_word AND word ~ '{CHINESE_WORD}'
"""


def upgrade() -> None:
    bind = op.get_bind()
    bind.exec_driver_sql(INDEX_SQL)
    bind.exec_driver_sql(SEARCH_PLAN_SQL)
    bind.exec_driver_sql(OR_MATCHES_SQL)
    bind.exec_driver_sql(OCR_SEARCH_SQL)


def downgrade() -> None:
    bind = op.get_bind()
    bind.exec_driver_sql(PREVIOUS.OCR_SEARCH_SQL)
    bind.exec_driver_sql(PREVIOUS.SEARCH_PLAN_SQL)
    bind.exec_driver_sql("DROP FUNCTION aio.or_matches(text)")
    bind.exec_driver_sql("DROP INDEX aio.ocr_word_by_asset")
