"""Ordered word lists: the first page of an OCR search, read from the top of one word's list.

Revision ID: 0005_ordered_word_lists
Revises: 0004_normalised_search
Create Date: 2026-11-29

Until now aio.ocr_search ranked every matching document (ts_rank_cd over each one's tsvector) before
Immich could take its first page. At 100 000 photos that took 60-200 ms for a frequent word, and it
grows with the library. Now each document's Chinese words of two characters or more are also kept in
aio.ocr_word: one row per word and document, holding the word's rank in that document, in a btree
ordered by rank. A search reads one word's list from the top, through Immich's filters, and stops when
the page is full.

Which list (aio.key_word): a word that every match of the query contains, whichever alternative of the
query it matches; of those, the rarest (ANALYZE's element frequencies). A two-character word is also
listed where a document has it only as characters (a bigram), after the documents that have it as a
word, so the character safety net's matches are in the list too.
- One word (ocr:发票): that word's list. The order is exactly the old one: aio.ocr_rank of the word,
  exact forms first (x1.5).
- Several words (增值税发票, "上海南站"): the key word's list, each document checked against the whole
  query, ordered by the key word's rank in it. This is the change of ranking: cover density of the
  whole query ordered these before.
- Two characters that are no dictionary word (拿铁): only the characters in a row match now. zhparser
  splits such a run into single characters, and a document with 拿 and 铁 anywhere used to match too.
- Listed words joined by OR (发票 OR 收据): no word is in every match; the ranks of the words are summed
  from their lists (the old rank, up to float rounding: cover density of an OR of single words is the
  sum of theirs).
- Queries with no such word (codes, single characters, exclusions, the degraded mode): every match is
  ranked, as before.

Triggers on aio.ocr_document keep aio.ocr_word, so every path that changes a document keeps it too:
Immich's OCR job, the cascade from a deleted asset, a rebuild. A row is found again for deletion by
computing it again from the old document (the same function gives the same rank), so no index by asset
is needed.
"""

from __future__ import annotations

from pathlib import Path

from alembic import op
from sidecar.db import earlier_revision

revision = "0005_ordered_word_lists"
down_revision = "0004_normalised_search"
branch_labels = None
depends_on = None


PREVIOUS = earlier_revision(Path(__file__).with_name("0004_normalised_search.py"))
FIRST = earlier_revision(Path(__file__).with_name("0001_ocr_search.py"))
CHINESE_WORD = f"^[{PREVIOUS.CJK}]{{2,}}$"  # the words listed: CJK only, two characters or more

CJK_RUN_QUERY_SQL = r"""
-- As in 0001, except that a run zhparser splits into single characters only (no dictionary word of
-- two characters or more: 拿铁) matches as the characters in a row, not as characters anywhere.
CREATE OR REPLACE FUNCTION aio.cjk_run_query(run text, exact boolean) RETURNS tsquery
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET zhparser.multi_short = off
SET zhparser.punctuation_ignore = on
AS $$
DECLARE
  grams tsquery;
  words tsquery;
  tokens text[];
BEGIN
  IF char_length(run) = 1 THEN
    RETURN (quote_literal(run) || ':AD')::tsquery;
  END IF;
  FOR i IN 1 .. char_length(run) - 1 LOOP
    grams := CASE WHEN grams IS NULL THEN (quote_literal(substr(run, i, 2)) || ':D')::tsquery
                  ELSE tsquery_phrase(grams, (quote_literal(substr(run, i, 2)) || ':D')::tsquery) END;
  END LOOP;
  IF aio.search_mode() <> 'zhparser' THEN
    RETURN grams;
  END IF;
  SELECT array_agg(lexemes[1] ORDER BY ordinality) INTO tokens
    FROM ts_debug('aio.zh', run) WITH ORDINALITY WHERE cardinality(lexemes) > 0;
  IF tokens IS NULL OR (NOT exact AND (SELECT max(char_length(t)) FROM unnest(tokens) AS t) = 1) THEN
    RETURN grams;
  END IF;
  IF cardinality(tokens) = 1 AND tokens[1] = run THEN
    RETURN (quote_literal(run) || ':A')::tsquery;  -- a dictionary word: words only, no bigram coincidences
  END IF;
  SELECT string_agg(quote_literal(t) || ':A', ' & ')::tsquery INTO words FROM unnest(tokens) AS t;
  IF exact THEN
    RETURN words && grams;
  END IF;
  RETURN words || grams;
END
$$;

"""
WORD_ROWS_SQL = rf"""
-- The listed words of a document with their rank there, times 1.5 for a plain document (aio.ocr_search
-- ranks exact forms first, and most queries are typed plain). A word (weight A) ranks as a query of that
-- one word ranks it ('word':A); a two-character word present only as characters ranks as they do
-- (':D'), far below.
CREATE FUNCTION aio.ocr_word_rows(tsv tsvector, plain boolean)
RETURNS TABLE (word text, is_word boolean, rank real)
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
  SELECT u.lexeme, 'A' = ANY (u.weights),
         (CASE WHEN plain THEN 1.5 ELSE 1 END
          * aio.ocr_rank(tsv, (quote_literal(u.lexeme) || CASE WHEN 'A' = ANY (u.weights) THEN ':A' ELSE ':D' END)
                                ::tsquery))::real
  FROM unnest(tsv) AS u
  WHERE u.lexeme ~ '{CHINESE_WORD}'
$$;

"""
WORD_TABLE_SQL = r"""
CREATE TABLE aio.ocr_word (
  word text NOT NULL,
  asset_id uuid NOT NULL,
  plain boolean NOT NULL,
  is_word boolean NOT NULL,
  rank real NOT NULL
);

CREATE FUNCTION aio.ocr_document_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO aio.ocr_word (word, asset_id, plain, is_word, rank)
  SELECT r.word, n.asset_id, n.plain, r.is_word, r.rank FROM new_rows AS n, aio.ocr_word_rows(n.tsv, n.plain) AS r;
  RETURN NULL;
END $$;
CREATE FUNCTION aio.ocr_document_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  DELETE FROM aio.ocr_word AS w USING old_rows AS o, aio.ocr_word_rows(o.tsv, o.plain) AS r
  WHERE w.word = r.word AND w.rank = r.rank AND w.asset_id = o.asset_id;
  RETURN NULL;
END $$;
CREATE FUNCTION aio.ocr_document_updated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  -- Immich's OCR job rewrites every box of a photo: most updates change nothing searchable
  DELETE FROM aio.ocr_word AS w
  USING old_rows AS o JOIN new_rows AS n ON n.asset_id = o.asset_id, aio.ocr_word_rows(o.tsv, o.plain) AS r
  WHERE (o.tsv, o.plain) IS DISTINCT FROM (n.tsv, n.plain)
    AND w.word = r.word AND w.rank = r.rank AND w.asset_id = o.asset_id;
  INSERT INTO aio.ocr_word (word, asset_id, plain, is_word, rank)
  SELECT r.word, n.asset_id, n.plain, r.is_word, r.rank
  FROM new_rows AS n JOIN old_rows AS o ON o.asset_id = n.asset_id, aio.ocr_word_rows(n.tsv, n.plain) AS r
  WHERE (o.tsv, o.plain) IS DISTINCT FROM (n.tsv, n.plain);
  RETURN NULL;
END $$;
CREATE FUNCTION aio.ocr_document_truncated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN TRUNCATE aio.ocr_word; RETURN NULL; END $$;

"""
KEY_WORD_SQL = rf"""
-- A word that every match of the query contains, whichever alternative it matches, for the list to read;
-- the rarest of them. NULL where there is none, or where the query excludes words (a list cannot tell).
-- "Contains" is tested on a document made of the query's other words at every position: if the query
-- still matches it, the word is not needed.
CREATE FUNCTION aio.key_word(query tsquery) RETURNS text LANGUAGE plpgsql STABLE PARALLEL SAFE
AS $$
DECLARE
  shown text := query::text;
  bare tsquery;
  words text[];
  candidate text;
  others text;
  places text;
  common text[];
  shares real[];
  share real;
  best text;
  best_share real;
BEGIN
  IF query IS NULL OR numnode(query) = 0 OR strpos(shown, '!') > 0 OR aio.search_mode() <> 'zhparser' THEN
    RETURN NULL;
  END IF;
  bare := regexp_replace(shown, '(''(?:[^'']|'''')*''):[A-D*]+', '\1', 'g')::tsquery;  -- presence, any weight
  places := array_to_string(ARRAY(SELECT generate_series(1, least(numnode(query), 256))), ',');
  SELECT array_agg(DISTINCT replace(m[1], '''''', '''')) INTO words
    FROM regexp_matches(shown, '''((?:[^'']|'''')+)''', 'g') AS m;
  FOREACH candidate IN ARRAY words LOOP
    CONTINUE WHEN candidate !~ '{CHINESE_WORD}';
    SELECT string_agg(quote_literal(w) || ':' || places, ' ') INTO others FROM unnest(words) AS w WHERE w <> candidate;
    CONTINUE WHEN others IS NOT NULL AND others::tsvector @@ bare;
    IF best IS NOT NULL AND common IS NULL THEN  -- a second candidate: which is rarer
      SELECT s.most_common_elems::text::text[], s.most_common_elem_freqs INTO common, shares
        FROM pg_stats AS s WHERE s.schemaname = 'aio' AND s.tablename = 'ocr_document' AND s.attname = 'tsv';
      best_share := coalesce(shares[array_position(common, best)], 0);
    END IF;
    share := coalesce(shares[array_position(common, candidate)], 0);  -- not among the common: rare
    IF best IS NULL OR share < best_share OR (share = best_share AND char_length(candidate) > char_length(best)) THEN
      best := candidate;
      best_share := share;
    END IF;
  END LOOP;
  RETURN best;
EXCEPTION WHEN OTHERS THEN
  -- never raises on user input (aio.ocr_query's contract): without a key word every match is ranked
  RETURN NULL;
END
$$;

"""
PLAN_TYPE_SQL = """
CREATE TYPE aio.search_plan AS (query tsquery, key_word text, key_filter text, or_words text[], typed_plain boolean);
"""
SEARCH_PLAN_SQL = rf"""
-- A query parsed, with the list to read. key_filter says which of the key word's rows match the whole
-- query: 'words' (those listed as a word), 'listed' (all), or 'check' (each document is checked).
-- or_words: the words of a query that is listed words joined by OR (发票 OR 收据), which has no key word.
-- IMMUTABLE so that the planner computes it once, while planning, and sees the key word as a constant
-- with its statistics (how long its list is). It depends on the query text and on what the migrations
-- fixed (the normalisation tables, the dictionary). Only which of several key words is chosen follows the
-- statistics, and that changes speed, never results. Cached for the transaction: each branch of
-- aio.ocr_search asks for it.
-- COST: parsing a query takes about a millisecond. At its true price, a generic plan of a prepared
-- statement (Immich's driver prepares them), which would call it per row, never looks cheaper than the
-- custom plans, where it is computed once while planning.
CREATE FUNCTION aio.search_plan(q text) RETURNS aio.search_plan
LANGUAGE plpgsql IMMUTABLE PARALLEL RESTRICTED COST 40000
AS $$
DECLARE
  tag text := md5(coalesce(q, ''));
  cached text := current_setting('aio.search_plan', true);
  plan aio.search_plan;
  key text;
BEGIN
  IF left(cached, 32) = tag THEN
    RETURN substr(cached, 34)::aio.search_plan;
  END IF;
  plan.query := aio.ocr_query(q);
  plan.key_word := aio.key_word(plan.query);
  key := quote_literal(plan.key_word);
  plan.key_filter := CASE WHEN plan.query::text = key || ':A' THEN 'words'
                          WHEN plan.query::text IN (key, key || ':D', key || ':AD') THEN 'listed'
                          ELSE 'check' END;
  IF plan.key_word IS NULL AND plan.query::text ~ '^''[^'']+'':A( \| ''[^'']+'':A)+$' THEN
    SELECT array_agg(substr(t, 2, char_length(t) - 4)) INTO plan.or_words
      FROM regexp_split_to_table(plan.query::text, ' \| ') AS t;
    IF EXISTS (SELECT 1 FROM unnest(plan.or_words) AS w WHERE w !~ '{CHINESE_WORD}') THEN
      plan.or_words := NULL;
    END IF;
  END IF;
  plan.typed_plain := lower(coalesce(q, '')) = aio.normalize(coalesce(q, ''));
  PERFORM set_config('aio.search_plan', tag || ' ' || plan::text, true);
  RETURN plan;
END
$$;

"""
DOCUMENT_MATCHES_SQL = r"""
-- Whether an asset's document matches a query. A function, not a sub-select: the planner then counts
-- a third of a list as matching (a sub-select with @@ counts one in two hundred), and reads lists in order.
CREATE FUNCTION aio.ocr_document_matches(asset uuid, query tsquery) RETURNS boolean
LANGUAGE plpgsql STABLE PARALLEL SAFE COST 1000
AS $$
BEGIN
  RETURN EXISTS (SELECT 1 FROM aio.ocr_document AS d WHERE d.asset_id = asset AND d.tsv @@ query);
END
$$;

"""
OCR_SEARCH_SQL = r"""
-- Four branches, of which the planner keeps one (the conditions are constants once aio.search_plan is):
-- 1. the key word's list, for a query typed plain;
-- 2. and 3. the same list in two parts, for a query typed otherwise: plain documents as listed, the
--    others x2.25 (exact forms x1.5 relative to them, every rank x1.5);
-- 4. no key word: every match ranked;
-- 5. listed words joined by OR: the sum of their ranks from their lists (cover density of an OR of
--    single words is the sum of theirs), without reading the documents.
-- Plain selects under a UNION ALL with the conditions outside, and the key word compared with `word` in
-- every branch, so that the planner reads a list in its index order and Immich's LIMIT stops the read.
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
            * aio.ocr_rank(d.tsv, (aio.search_plan(q)).query))::real,
           '', d.plain, false, d.tsv
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
                      AND u.tsv @@ (aio.search_plan(q)).query
          ELSE (aio.search_plan(q)).or_words IS NOT NULL
        END
    AND CASE WHEN u.branch >= 4 THEN true
             WHEN (aio.search_plan(q)).key_filter = 'words' THEN u.is_word
             WHEN (aio.search_plan(q)).key_filter = 'listed' THEN true
             ELSE aio.ocr_document_matches(u.asset_id, (aio.search_plan(q)).query) END
$$;
COMMENT ON FUNCTION aio.ocr_search(text) IS
  'OCR documents matching a user query (any input: words, "phrases", OR, -exclusions), normalised (Traditional '
  'and Simplified, full-width, codes), best first: read from the key word''s ordered list where the query has one';
"""
SCHEMA_SQL = "".join(
    [
        CJK_RUN_QUERY_SQL,
        WORD_ROWS_SQL,
        WORD_TABLE_SQL,
        KEY_WORD_SQL,
        PLAN_TYPE_SQL,
        SEARCH_PLAN_SQL,
        DOCUMENT_MATCHES_SQL,
        OCR_SEARCH_SQL,
    ]
)

# Built after the back-fill (faster than row by row). The index by rank carries the asset and the flags,
# so that a list is read from the index alone; asset_id is a key column so that a row is found again
# exactly for deletion. The second index, only of documents not plain, orders them for queries not typed
# plain.
# The planner reads a list in order only while an index-only scan is cheap, that is while most of the
# table is marked all-visible: VACUUM after the back-fill, and autovacuum soon after new photos' words.
INDEX_SQL = """
ALTER TABLE aio.ocr_word SET (autovacuum_vacuum_insert_scale_factor = 0.02, autovacuum_vacuum_scale_factor = 0.02);
CREATE INDEX ocr_word_list ON aio.ocr_word (word, rank DESC, asset_id) INCLUDE (plain, is_word);
CREATE INDEX ocr_word_list_not_plain ON aio.ocr_word (word, (rank * 2.25::real) DESC, asset_id) INCLUDE (is_word)
  WHERE NOT plain;
CREATE TRIGGER aio_ocr_word_insert AFTER INSERT ON aio.ocr_document
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION aio.ocr_document_inserted();
CREATE TRIGGER aio_ocr_word_delete AFTER DELETE ON aio.ocr_document
  REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION aio.ocr_document_deleted();
CREATE TRIGGER aio_ocr_word_update AFTER UPDATE ON aio.ocr_document
  REFERENCING NEW TABLE AS new_rows OLD TABLE AS old_rows
  FOR EACH STATEMENT EXECUTE FUNCTION aio.ocr_document_updated();
CREATE TRIGGER aio_ocr_word_truncate AFTER TRUNCATE ON aio.ocr_document
  FOR EACH STATEMENT EXECUTE FUNCTION aio.ocr_document_truncated();
"""


def upgrade() -> None:
    bind = op.get_bind()
    bind.exec_driver_sql(SCHEMA_SQL)
    bind.exec_driver_sql(
        "INSERT INTO aio.ocr_word (word, asset_id, plain, is_word, rank) SELECT r.word, d.asset_id, d.plain, "
        "r.is_word, r.rank FROM aio.ocr_document AS d, aio.ocr_word_rows(d.tsv, d.plain) AS r"
    )
    bind.exec_driver_sql(INDEX_SQL)
    # The back-fill's commit waits for its WAL: VACUUM marks a page all-visible only once it can set the
    # rows' commit hint bits, which an asynchronous commit (synchronous_commit = off) defers.
    bind.exec_driver_sql("SET LOCAL synchronous_commit = on")
    with op.get_context().autocommit_block():
        # aio.key_word reads the documents' element frequencies; the lists need the visibility map
        bind.exec_driver_sql("ANALYZE aio.ocr_document")
        bind.exec_driver_sql("VACUUM (ANALYZE) aio.ocr_word")


def downgrade() -> None:
    bind = op.get_bind()
    bind.exec_driver_sql(PREVIOUS.OCR_SEARCH_SQL)
    bind.exec_driver_sql(FIRST.CJK_RUN_QUERY_SQL.replace("CREATE FUNCTION", "CREATE OR REPLACE FUNCTION", 1))
    bind.exec_driver_sql("""
DROP TABLE aio.ocr_word;
DROP TRIGGER aio_ocr_word_insert ON aio.ocr_document;
DROP TRIGGER aio_ocr_word_delete ON aio.ocr_document;
DROP TRIGGER aio_ocr_word_update ON aio.ocr_document;
DROP TRIGGER aio_ocr_word_truncate ON aio.ocr_document;
DROP FUNCTION aio.ocr_document_inserted(), aio.ocr_document_deleted(), aio.ocr_document_updated(),
  aio.ocr_document_truncated(), aio.search_plan(text), aio.ocr_document_matches(uuid, tsquery),
  aio.key_word(tsquery), aio.ocr_word_rows(tsvector, boolean);
DROP TYPE aio.search_plan;
""")
