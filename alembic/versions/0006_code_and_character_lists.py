"""Codes, Latin words and single characters in the word lists: those queries read a list too.

Revision ID: 0006_code_and_character_lists
Revises: 0005_ordered_word_lists
Create Date: 2026-11-29

In 0005 codes and single characters still ranked every match. A code query (SF1234567890, Immich2024) has
three alternatives (its letters and digits as words, the code whole, the code inside a longer code), and no
word is in all three; characters were not listed. At 100 000 photos a code found on 5 % of them took 75-85 ms
and a character found on 57 % of them 150 ms, where a word took 2 ms.

Now the lists also hold every single Chinese character (ranked as a one-character query ranks it, ':AD'),
and every lexeme of four letters and digits or more (codes whole, words such as hotel; ranked as a query of
that lexeme alone ranks it).
- A character or a Latin word that every match contains is a key word like a Chinese word (票: its own list,
  in exactly the old order; century park: the rarer word).
- A query with no key word is split on one listed word W of it such that every document containing W matches
  (aio.split_word): for a code, the code whole. The matches containing W are read from W's list, ordered by
  W's rank; the other matches (the query and not W: the GIN index leaves out the documents with W without
  reading them) are ranked by the whole query; both are merged by rank. So a code's photos are ordered by the
  code's own rank, as one word's photos are by the word's, and photos that have its letters and digits apart,
  or the code inside a longer code, take their place by the whole query's rank. The other matches are found
  while planning (aio.search_plan): past SPLIT_REST_LIMIT of them, every match is ranked as before.
- Cost: the characters about double the lists' rows (at 100 000 documents, 7.1 million rows and 847 MB with
  their indexes instead of 3.2 million and 387 MB); codes and Latin words add a tenth.
"""

from __future__ import annotations

from pathlib import Path

from alembic import op
from sidecar.db import earlier_revision

revision = "0006_code_and_character_lists"
down_revision = "0005_ordered_word_lists"
branch_labels = None
depends_on = None

PREVIOUS = earlier_revision(Path(__file__).with_name("0005_ordered_word_lists.py"))
CHINESE_WORD = PREVIOUS.CHINESE_WORD
CHINESE_CHARACTER = f"^[{PREVIOUS.PREVIOUS.CJK}]$"
LATIN_WORD = "^[0-9a-z]{4,}$"  # letters and digits, four or more: a trigram (three) is never a whole code
# What a list holds: every document that has the word, with any weight. A character is a word (A) or inside
# one (D); a Chinese word of two characters is also a bigram (D), a longer one is only a word (A); a Latin
# word is a word (A) or a code (B).
LISTED_WORD = f"({CHINESE_CHARACTER})|({CHINESE_WORD})|({LATIN_WORD})"
# A query is split only while few of its matches lack the split word. They are found while planning (the
# planner then knows how few they are, and reads the list in order); past this many, every match is ranked.
SPLIT_REST_LIMIT = 1000

# 0005's aio.key_word, with characters and Latin words as candidates too.
KEY_WORD_SQL = PREVIOUS.KEY_WORD_SQL.replace("CREATE FUNCTION", "CREATE OR REPLACE FUNCTION", 1).replace(
    f"candidate !~ '{CHINESE_WORD}'", f"candidate !~ '{LISTED_WORD}'"
)
assert LISTED_WORD in KEY_WORD_SQL

# 0005's aio.search_plan with one step added, before typed_plain: a query with no key word and no OR of listed
# words is split on aio.split_word. key_word is then that word, read as listed; rest is the query and not the
# word, and rest_assets the documents that match it, found here, while planning. Only a split query's plan
# depends on the documents (0005's depended only on the query and on what the migrations fixed): a plan is
# computed again for each statement (custom plans, see COST) and cached only for the transaction, and the search
# checks each of rest_assets against rest again. Without the documents found here the planner would count the
# rest as many (it takes the word and the query as independent) and not read the list in order.
SPLIT_STEP = f"""  IF plan.key_word IS NULL AND plan.or_words IS NULL THEN
    key := aio.split_word(plan.query);
    IF key IS NOT NULL THEN
      plan.rest := plan.query && tsquery_not(quote_literal(key)::tsquery);
      SELECT coalesce(array_agg(d.asset_id), '{{}}') INTO plan.rest_assets
        FROM (SELECT r.asset_id FROM aio.ocr_document AS r WHERE r.tsv @@ plan.rest LIMIT {SPLIT_REST_LIMIT} + 1) AS d;
      IF cardinality(plan.rest_assets) <= {SPLIT_REST_LIMIT} THEN
        plan.key_word := key;
        plan.key_filter := 'listed';
      ELSE
        plan.rest := NULL;
        plan.rest_assets := NULL;
      END IF;
    END IF;
  END IF;
"""
SEARCH_PLAN_SQL = PREVIOUS.SEARCH_PLAN_SQL.replace("CREATE FUNCTION", "CREATE OR REPLACE FUNCTION", 1).replace(
    "  plan.typed_plain := lower", SPLIT_STEP + "  plan.typed_plain := lower"
)
assert SPLIT_STEP in SEARCH_PLAN_SQL

WORD_ROWS_SQL = rf"""
-- As in 0005, and single characters (ranked as a query of one character, ':AD'), and Latin words and codes of
-- four characters or more (ranked as a query of the lexeme alone, any weight).
CREATE OR REPLACE FUNCTION aio.ocr_word_rows(tsv tsvector, plain boolean)
RETURNS TABLE (word text, is_word boolean, rank real)
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
  SELECT u.lexeme, 'A' = ANY (u.weights),
         (CASE WHEN plain THEN 1.5 ELSE 1 END
          * aio.ocr_rank(tsv, (quote_literal(u.lexeme)
                                || CASE WHEN u.lexeme ~ '{LATIN_WORD}' THEN ''
                                        WHEN char_length(u.lexeme) = 1 THEN ':AD'
                                        WHEN 'A' = ANY (u.weights) THEN ':A' ELSE ':D' END)::tsquery))::real
  FROM unnest(tsv) AS u
  WHERE u.lexeme ~ '{LISTED_WORD}'
$$;

"""
SPLIT_WORD_SQL = rf"""
-- For a query with no key word: a listed word of it such that every document containing the word matches
-- the query (for a code query, the code whole); of those, the most common (ANALYZE's element frequencies),
-- which leaves the fewest matches outside its list; then the longest. A document that holds only the word,
-- with each weight its list can hold, must match; without exclusions, more words never undo a match.
-- NULL if there is none.
CREATE FUNCTION aio.split_word(query tsquery) RETURNS text LANGUAGE plpgsql STABLE PARALLEL SAFE
AS $$
DECLARE
  best text;
BEGIN
  IF query IS NULL OR numnode(query) = 0 OR strpos(query::text, '!') > 0 OR aio.search_mode() <> 'zhparser' THEN
    RETURN NULL;
  END IF;
  SELECT w INTO best
  FROM (SELECT DISTINCT replace(m[1], '''''', '''') AS w
        FROM regexp_matches(query::text, '''((?:[^'']|'''')+)''', 'g') AS m) AS words
  LEFT JOIN LATERAL (
    SELECT e.share
    FROM pg_stats AS s, unnest(s.most_common_elems::text::text[], s.most_common_elem_freqs) AS e(word, share)
    WHERE s.schemaname = 'aio' AND s.tablename = 'ocr_document' AND s.attname = 'tsv' AND e.word = w
  ) AS common ON true
  WHERE w ~ '{LISTED_WORD}'
    AND NOT EXISTS (
      SELECT 1 FROM unnest(CASE WHEN w ~ '{LATIN_WORD}' THEN '{{A,B}}'::text[]
                                WHEN char_length(w) <= 2 THEN '{{A,D}}'::text[] ELSE '{{A}}'::text[] END) AS weight
      WHERE NOT (quote_literal(w) || ':1' || weight)::tsvector @@ query)
  ORDER BY coalesce(common.share, 0) DESC, char_length(w) DESC, w
  LIMIT 1;
  RETURN best;
EXCEPTION WHEN OTHERS THEN
  RETURN NULL;  -- as aio.key_word: never raises; every match is then ranked
END
$$;

"""
OCR_SEARCH_SQL = r"""
-- As in 0005, except branch 4: it ranks every match where there is no key word, as before, and the matches
-- outside the list (rest) where the query was split; its `word` is the key word, so that it is kept then.
-- 1. the key word's list, for a query typed plain;
-- 2. and 3. the same list in two parts, for a query typed otherwise: plain documents as listed, the
--    others x2.25 (exact forms x1.5 relative to them, every rank x1.5);
-- 4. every match ranked by the whole query, or the rest of a split query (x1.5 beside branches 2 and 3, which
--    give every rank x1.5);
-- 5. listed words joined by OR: the sum of their ranks from their lists.
CREATE OR REPLACE FUNCTION aio.ocr_search(q text)
RETURNS TABLE (asset_id uuid, rank real)
LANGUAGE sql STABLE PARALLEL RESTRICTED ROWS 100
AS $$
  SELECT u.asset_id, u.rank
  FROM (
    SELECT 1 AS branch, w.asset_id, w.rank, w.word, w.plain, w.is_word, NULL::tsvector AS tsv FROM aio.ocr_word AS w
    UNION ALL
    SELECT 2, w.asset_id, w.rank, w.word, w.plain, w.is_word, NULL FROM aio.ocr_word AS w
    UNION ALL
    SELECT 3, w.asset_id, w.rank * 2.25::real, w.word, w.plain, w.is_word, NULL FROM aio.ocr_word AS w
    UNION ALL
    SELECT 4, d.asset_id,
           (CASE WHEN d.plain = (aio.search_plan(q)).typed_plain THEN 1.5 ELSE 1 END
            * CASE WHEN (aio.search_plan(q)).rest IS NOT NULL AND NOT (aio.search_plan(q)).typed_plain
                   THEN 1.5 ELSE 1 END
            * aio.ocr_rank(d.tsv, (aio.search_plan(q)).query))::real,
           coalesce((aio.search_plan(q)).key_word, ''), d.plain, false, d.tsv
    FROM aio.ocr_document AS d
    UNION ALL
    SELECT 5, o.asset_id, o.rank, '', NULL, NULL, NULL
    FROM (
      SELECT w.asset_id,
             sum(CASE WHEN (aio.search_plan(q)).typed_plain THEN w.rank
                      WHEN w.plain THEN w.rank / 1.5 ELSE w.rank * 1.5 END)::real AS rank
      FROM aio.ocr_word AS w
      WHERE w.word = ANY ((aio.search_plan(q)).or_words) AND w.is_word
      GROUP BY w.asset_id
    ) AS o
  ) AS u
  WHERE u.word = coalesce((aio.search_plan(q)).key_word, '')
    AND CASE u.branch
          WHEN 1 THEN (aio.search_plan(q)).typed_plain
          WHEN 2 THEN NOT (aio.search_plan(q)).typed_plain AND u.plain
          WHEN 3 THEN NOT (aio.search_plan(q)).typed_plain AND NOT u.plain
          WHEN 4 THEN (aio.search_plan(q)).or_words IS NULL AND numnode((aio.search_plan(q)).query) > 0
                      AND (((aio.search_plan(q)).key_word IS NULL AND u.tsv @@ (aio.search_plan(q)).query)
                           OR ((aio.search_plan(q)).rest IS NOT NULL
                               AND u.asset_id = ANY ((aio.search_plan(q)).rest_assets)
                               AND u.tsv @@ (aio.search_plan(q)).rest))
          ELSE (aio.search_plan(q)).or_words IS NOT NULL
        END
    AND CASE WHEN u.branch >= 4 THEN true
             WHEN (aio.search_plan(q)).key_filter = 'words' THEN u.is_word
             WHEN (aio.search_plan(q)).key_filter = 'listed' THEN true
             ELSE aio.ocr_document_matches(u.asset_id, (aio.search_plan(q)).query) END
$$;
"""
SCHEMA_SQL = "".join([WORD_ROWS_SQL, SPLIT_WORD_SQL, OCR_SEARCH_SQL])


def upgrade() -> None:
    bind = op.get_bind()
    bind.exec_driver_sql("ALTER TYPE aio.search_plan ADD ATTRIBUTE rest tsquery, ADD ATTRIBUTE rest_assets uuid[]")
    bind.exec_driver_sql(KEY_WORD_SQL)
    bind.exec_driver_sql(SEARCH_PLAN_SQL)
    bind.exec_driver_sql(SCHEMA_SQL)
    bind.exec_driver_sql(
        "INSERT INTO aio.ocr_word (word, asset_id, plain, is_word, rank) SELECT r.word, d.asset_id, d.plain, "
        f"r.is_word, r.rank FROM aio.ocr_document AS d, aio.ocr_word_rows(d.tsv, d.plain) AS r "
        f"WHERE r.word ~ '({CHINESE_CHARACTER})|({LATIN_WORD})'"
    )
    # The back-fill's commit waits for its WAL: VACUUM marks a page all-visible only once it can set the
    # rows' commit hint bits, which an asynchronous commit (synchronous_commit = off) defers.
    bind.exec_driver_sql("SET LOCAL synchronous_commit = on")
    with op.get_context().autocommit_block():
        bind.exec_driver_sql("VACUUM (ANALYZE) aio.ocr_word")  # the new rows all-visible: lists read from the index


def downgrade() -> None:
    bind = op.get_bind()
    bind.exec_driver_sql(f"DELETE FROM aio.ocr_word WHERE word ~ '({CHINESE_CHARACTER})|({LATIN_WORD})'")
    bind.exec_driver_sql(PREVIOUS.OCR_SEARCH_SQL)
    for definition in (PREVIOUS.SEARCH_PLAN_SQL, PREVIOUS.KEY_WORD_SQL, PREVIOUS.WORD_ROWS_SQL):
        bind.exec_driver_sql(definition.replace("CREATE FUNCTION", "CREATE OR REPLACE FUNCTION", 1))
    bind.exec_driver_sql("DROP FUNCTION aio.split_word(tsquery)")
    bind.exec_driver_sql("ALTER TYPE aio.search_plan DROP ATTRIBUTE rest, DROP ATTRIBUTE rest_assets")
