"""aio OCR search: zhparser configuration, one OCR document per asset, query/rank/fusion functions.

Revision ID: 0001_ocr_search
Revises:
Create Date: 2026-11-25

Runs after Immich's own migrations and never alters Immich's tables or data: it only adds triggers
(owned by aio functions) to asset_ocr and a table that references asset(id) with ON DELETE CASCADE.

zhparser settings, and why:
- documents are parsed with zhparser.multi_short=on: a compound such as 华山医院 or 浦东国际机场 is
  indexed together with the dictionary words inside it (华山, 医院; 浦东, 国际, 机场), so a search for
  a part finds the whole;
- queries are parsed with multi_short=off, so one query word never becomes a set of expanded tokens
  that would all have to match;
- punctuation_ignore=on: punctuation carries nothing to search for.
Token mapping: every zhparser token type is indexed through the `simple` dictionary (lower-cased,
no stemming) except w (punctuation), u (auxiliaries such as 的/了, also stray '.') and y (modal
particles such as 吗/呢): they would match almost every document.

Documents also carry CJK unigrams and bigrams with weight D (a safety net for words the dictionary
does not know); dictionary words carry weight A, and queries only fall back to the bigram phrase for
words the dictionary does not know, so 海南 never matches 上海南站 through the bigram 海南.
"""

from __future__ import annotations

import os

from sqlalchemy import text

from alembic import context, op

revision = "0001_ocr_search"
down_revision = None
branch_labels = None
depends_on = None

CJK = "一-鿿㐀-䶿豈-﫿぀-ヿ가-힯"  # CJK ideographs, compatibility ideographs, kana, hangul
INDEXED_TOKEN_TYPES = "a,b,c,d,e,f,g,h,i,j,k,l,m,n,o,p,q,r,s,t,v,x,z"

# Definitions that a later revision replaces and whose downgrade restores them from here.
OCR_TSVECTOR_SQL = """CREATE OR REPLACE FUNCTION aio.ocr_tsvector(body text) RETURNS tsvector
LANGUAGE sql STABLE PARALLEL SAFE
SET zhparser.multi_short = on
SET zhparser.punctuation_ignore = on
AS $$
  SELECT setweight(to_tsvector('aio.zh', coalesce(body, '')), 'A') || setweight(aio.cjk_ngrams(body), 'D')
$$;"""

# Word matches (A) weigh ten times character matches (D); longer documents are damped (log length).
OCR_RANK_SQL = """CREATE OR REPLACE FUNCTION aio.ocr_rank(tsv tsvector, q tsquery) RETURNS real
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$ SELECT ts_rank_cd('{0.1, 0.2, 0.4, 1.0}', tsv, q, 1) $$;"""

# Rebuild the documents of these assets from asset_ocr: box texts in reading order (top to bottom in
# bands of 1/50 of the height, then left to right), one line each.
REFRESH_SQL = """CREATE OR REPLACE FUNCTION aio.refresh_ocr_documents(ids uuid[]) RETURNS void LANGUAGE sql
AS $$
  DELETE FROM aio.ocr_document d
  WHERE d.asset_id = ANY (ids) AND NOT EXISTS (SELECT 1 FROM public.asset_ocr o WHERE o."assetId" = d.asset_id);
  INSERT INTO aio.ocr_document (asset_id, body, tsv)
  SELECT b.asset_id, b.body, aio.ocr_tsvector(b.body)
  FROM (
    SELECT o."assetId" AS asset_id, string_agg(o.text, E'\\n' ORDER BY floor((o.y1 + o.y2) * 25), o.x1) AS body
    FROM public.asset_ocr o WHERE o."assetId" = ANY (ids) GROUP BY o."assetId"
  ) b
  WHERE EXISTS (SELECT 1 FROM public.asset a WHERE a.id = b.asset_id)
  ON CONFLICT (asset_id) DO UPDATE SET body = excluded.body, tsv = excluded.tsv;
$$;"""

# One CJK run of a query: a dictionary word matches words; anything else matches its words or its
# exact character sequence (bigram phrase).
CJK_RUN_QUERY_SQL = """
CREATE FUNCTION aio.cjk_run_query(run text, exact boolean) RETURNS tsquery LANGUAGE plpgsql STABLE PARALLEL SAFE
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
  IF tokens IS NULL THEN
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
$$;"""

# One term of a query (a word, or a quoted phrase when exact): CJK runs and other runs, all required.
TERM_QUERY_SQL = f"""CREATE OR REPLACE FUNCTION aio.term_query(term text, exact boolean) RETURNS tsquery
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET zhparser.multi_short = off
SET zhparser.punctuation_ignore = on
AS $$
DECLARE
  part text;
  piece tsquery;
  result tsquery;
BEGIN
  FOR part IN SELECT m[1] FROM regexp_matches(term, '([{CJK}]+|[^{CJK}]+)', 'g') AS m LOOP
    IF part ~ '^[{CJK}]' THEN
      piece := aio.cjk_run_query(part, exact);
    ELSIF exact THEN
      piece := phraseto_tsquery('aio.zh', part);
    ELSE
      piece := plainto_tsquery('aio.zh', part);
    END IF;
    IF piece IS NULL OR numnode(piece) = 0 THEN
      CONTINUE;
    END IF;
    result := CASE WHEN result IS NULL THEN piece ELSE result && piece END;
  END LOOP;
  RETURN result;
END
$$;"""


def _requested_mode() -> str:
    """zhparser (default) or degraded, from `-x search_mode=...` or AIO_SEARCH_MODE."""
    value = (
        context.get_x_argument(as_dictionary=True).get("search_mode") or os.environ.get("AIO_SEARCH_MODE") or "zhparser"
    )
    value = value.strip().lower()
    if value not in {"zhparser", "degraded"}:
        raise RuntimeError(f"AIO_SEARCH_MODE must be zhparser or degraded, got {value!r}")
    return value


def _run(sql: str) -> None:
    # Raw DDL straight to the driver: SQLAlchemy's text() would read ':A' in tsquery literals as binds.
    op.get_bind().exec_driver_sql(sql)


def upgrade() -> None:
    bind = op.get_bind()
    missing = [
        t
        for t in ("asset", "asset_ocr")
        if bind.execute(text("SELECT to_regclass(:t)"), {"t": f"public.{t}"}).scalar() is None
    ]
    if missing:
        raise RuntimeError(
            f"Immich's tables {', '.join(missing)} are missing from this database: start Immich v2.4.1 once "
            "(it runs its own migrations), then run `immich-sidecar db upgrade` again"
        )

    mode = _requested_mode()
    created = False
    if mode == "zhparser":
        if not bind.execute(text("SELECT 1 FROM pg_available_extensions WHERE name = 'zhparser'")).scalar():
            raise RuntimeError(
                "the PostgreSQL extension zhparser is not installed, so Chinese word search cannot be set up. "
                "Use the project's PostgreSQL image (Dockerfile.postgres), or build zhparser and SCWS into this "
                "server; or accept character-only search with AIO_SEARCH_MODE=degraded"
            )
        created = not bind.execute(text("SELECT 1 FROM pg_extension WHERE extname = 'zhparser'")).scalar()
        op.execute("CREATE EXTENSION IF NOT EXISTS zhparser")

    op.execute("CREATE TABLE aio.install (key text PRIMARY KEY, value text NOT NULL)")
    op.execute(
        text("INSERT INTO aio.install VALUES ('mode', :mode), ('created_zhparser', :created)").bindparams(
            mode=mode, created=str(created).lower()
        )
    )

    if mode == "zhparser":
        op.execute("CREATE TEXT SEARCH CONFIGURATION aio.zh (PARSER = zhparser)")
        op.execute(f"ALTER TEXT SEARCH CONFIGURATION aio.zh ADD MAPPING FOR {INDEXED_TOKEN_TYPES} WITH simple")
        if extra := os.environ.get("AIO_ZHPARSER_EXTRA_DICTS", "").strip():
            # User dictionaries (files in PostgreSQL's tsearch_data), for every new session of this database.
            op.execute(
                text(
                    f'ALTER DATABASE "{bind.execute(text("SELECT current_database()")).scalar()}" '
                    "SET zhparser.extra_dicts = :d"
                ).bindparams(d=extra)
            )
    else:
        # Degraded: no word segmentation. Chinese is found through the character n-grams alone.
        op.execute("CREATE TEXT SEARCH CONFIGURATION aio.zh (COPY = simple)")

    _run(f"""
CREATE FUNCTION aio.search_mode() RETURNS text LANGUAGE sql STABLE PARALLEL SAFE
AS $$ SELECT value FROM aio.install WHERE key = 'mode' $$;

-- CJK unigrams and bigrams with positions; runs are one position apart so no phrase crosses them.
CREATE FUNCTION aio.cjk_ngrams(body text) RETURNS tsvector LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
  WITH runs AS (
    SELECT m.match[1] AS run, m.n
      FROM regexp_matches(coalesce(body, ''), '([{CJK}]+)', 'g') WITH ORDINALITY AS m(match, n)
  ), placed AS (
    SELECT run, (sum(char_length(run) + 1) OVER (ORDER BY n) - char_length(run))::int AS start FROM runs
  )
  SELECT coalesce(string_agg(quote_literal(gram) || ':' || least(pos, 16383), ' '), '')::tsvector
  FROM (
    SELECT substr(run, i, 1) AS gram, start + i - 1 AS pos FROM placed, generate_series(1, char_length(run)) AS i
    UNION ALL
    SELECT substr(run, i, 2), start + i - 1 FROM placed, generate_series(1, char_length(run) - 1) AS i
  ) grams
$$;

{OCR_TSVECTOR_SQL}
{CJK_RUN_QUERY_SQL}

{TERM_QUERY_SQL}
-- Any user input to a tsquery, never an error: words (all required), "quoted phrases", OR between
-- terms, -exclusions; punctuation, emoji and stray operators are ignored. Nothing searchable: ''.
CREATE FUNCTION aio.ocr_query(q text) RETURNS tsquery LANGUAGE plpgsql STABLE PARALLEL SAFE
AS $$
DECLARE
  m text[];
  term tsquery;
  positive tsquery;
  negative tsquery;
  pending_or boolean := false;
  cleaned text;
BEGIN
  -- Backslashes and control characters have no meaning here; a bounded length bounds the work.
  cleaned := regexp_replace(left(coalesce(q, ''), 512), '[\\\\[:cntrl:]]', ' ', 'g');
  FOR m IN SELECT regexp_matches(cleaned, '(-?)"([^"]*)"?|(\\S+)', 'g') LOOP
    IF m[3] IS NOT NULL AND m[3] = 'OR' THEN
      pending_or := positive IS NOT NULL;
      CONTINUE;
    END IF;
    IF m[3] IS NOT NULL AND m[3] ~ '^-.' THEN
      term := aio.term_query(substr(replace(m[3], '"', ''), 2), false);
      IF term IS NOT NULL AND numnode(term) > 0 THEN
        negative := CASE WHEN negative IS NULL THEN term ELSE negative || term END;
      END IF;
      CONTINUE;
    END IF;
    IF m[3] IS NOT NULL THEN
      term := aio.term_query(replace(m[3], '"', ''), false);
    ELSE
      term := aio.term_query(m[2], true);
      IF m[1] = '-' THEN
        IF term IS NOT NULL AND numnode(term) > 0 THEN
          negative := CASE WHEN negative IS NULL THEN term ELSE negative || term END;
        END IF;
        CONTINUE;
      END IF;
    END IF;
    IF term IS NULL OR numnode(term) = 0 THEN
      CONTINUE;
    END IF;
    IF positive IS NULL THEN
      positive := term;
    ELSIF pending_or THEN
      positive := positive || term;
    ELSE
      positive := positive && term;
    END IF;
    pending_or := false;
  END LOOP;
  IF positive IS NULL THEN
    RETURN ''::tsquery;  -- exclusions alone select nothing: a search needs something to look for
  END IF;
  IF negative IS NOT NULL THEN
    positive := positive && !!negative;
  END IF;
  RETURN positive;
EXCEPTION WHEN OTHERS THEN
  -- The contract is "never raises on user input"; the fuzz tests keep this path unused.
  RETURN ''::tsquery;
END
$$;

{OCR_RANK_SQL}

CREATE FUNCTION aio.ocr_snippet(body text, q tsquery) RETURNS text LANGUAGE sql STABLE PARALLEL SAFE
SET zhparser.multi_short = on
AS $$ SELECT ts_headline('aio.zh', body, q, 'MaxFragments=2, MaxWords=20, MinWords=5, StartSel=<b>, StopSel=</b>') $$;

-- Reciprocal-rank fusion of the CLIP list and the OCR list (best first in each); weights per list.
CREATE FUNCTION aio.rrf(clip_ids uuid[], ocr_ids uuid[], clip_weight real DEFAULT 1, ocr_weight real DEFAULT 1,
                        k integer DEFAULT 60)
RETURNS TABLE (asset_id uuid, score double precision, clip_rank integer, ocr_rank integer)
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
  WITH c AS (SELECT id, min(ord)::int AS r FROM unnest(clip_ids) WITH ORDINALITY AS t(id, ord) GROUP BY id),
       o AS (SELECT id, min(ord)::int AS r FROM unnest(ocr_ids) WITH ORDINALITY AS t(id, ord) GROUP BY id)
  SELECT coalesce(c.id, o.id),
         coalesce(clip_weight::double precision / (k + c.r), 0) + coalesce(ocr_weight::double precision / (k + o.r), 0),
         c.r, o.r
  FROM c FULL JOIN o ON c.id = o.id
  ORDER BY 2 DESC, coalesce(o.r, 2147483647), coalesce(c.r, 2147483647)
$$;

CREATE TABLE aio.ocr_document (
  asset_id uuid PRIMARY KEY REFERENCES public.asset (id) ON DELETE CASCADE,
  body text NOT NULL,
  tsv tsvector NOT NULL
);
CREATE INDEX ocr_document_tsv_idx ON aio.ocr_document USING gin (tsv);

{REFRESH_SQL}

CREATE FUNCTION aio.asset_ocr_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN PERFORM aio.refresh_ocr_documents(ARRAY(SELECT DISTINCT "assetId" FROM new_rows)); RETURN NULL; END $$;
CREATE FUNCTION aio.asset_ocr_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN PERFORM aio.refresh_ocr_documents(ARRAY(SELECT DISTINCT "assetId" FROM old_rows)); RETURN NULL; END $$;
CREATE FUNCTION aio.asset_ocr_updated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM aio.refresh_ocr_documents(ARRAY(SELECT "assetId" FROM new_rows UNION SELECT "assetId" FROM old_rows));
  RETURN NULL;
END $$;
CREATE FUNCTION aio.asset_ocr_truncated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN TRUNCATE aio.ocr_document; RETURN NULL; END $$;

CREATE TRIGGER aio_ocr_document_insert AFTER INSERT ON public.asset_ocr
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION aio.asset_ocr_inserted();
CREATE TRIGGER aio_ocr_document_delete AFTER DELETE ON public.asset_ocr
  REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION aio.asset_ocr_deleted();
CREATE TRIGGER aio_ocr_document_update AFTER UPDATE ON public.asset_ocr
  REFERENCING NEW TABLE AS new_rows OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION aio.asset_ocr_updated();
CREATE TRIGGER aio_ocr_document_truncate AFTER TRUNCATE ON public.asset_ocr
  FOR EACH STATEMENT EXECUTE FUNCTION aio.asset_ocr_truncated();
""")

    # Back-fill: libraries that already have OCR get their documents now.
    op.execute('SELECT aio.refresh_ocr_documents(ARRAY(SELECT DISTINCT "assetId" FROM public.asset_ocr))')


def downgrade() -> None:
    bind = op.get_bind()
    created_zhparser = bind.execute(text("SELECT value FROM aio.install WHERE key = 'created_zhparser'")).scalar()
    _run("""
DROP TRIGGER IF EXISTS aio_ocr_document_insert ON public.asset_ocr;
DROP TRIGGER IF EXISTS aio_ocr_document_delete ON public.asset_ocr;
DROP TRIGGER IF EXISTS aio_ocr_document_update ON public.asset_ocr;
DROP TRIGGER IF EXISTS aio_ocr_document_truncate ON public.asset_ocr;
DROP FUNCTION aio.asset_ocr_inserted(), aio.asset_ocr_deleted(), aio.asset_ocr_updated(), aio.asset_ocr_truncated();
DROP FUNCTION aio.refresh_ocr_documents(uuid[]);
DROP TABLE aio.ocr_document;
DROP FUNCTION aio.rrf(uuid[], uuid[], real, real, integer);
DROP FUNCTION aio.ocr_snippet(text, tsquery), aio.ocr_rank(tsvector, tsquery), aio.ocr_query(text);
DROP FUNCTION aio.term_query(text, boolean), aio.cjk_run_query(text, boolean);
DROP FUNCTION aio.ocr_tsvector(text), aio.cjk_ngrams(text), aio.search_mode();
DROP TEXT SEARCH CONFIGURATION aio.zh;
DROP TABLE aio.install;
""")
    if os.environ.get("AIO_ZHPARSER_EXTRA_DICTS", "").strip():
        database = bind.execute(text("SELECT current_database()")).scalar()
        op.execute(f'ALTER DATABASE "{database}" RESET zhparser.extra_dicts')
    if created_zhparser == "true":
        op.execute("DROP EXTENSION IF EXISTS zhparser")  # only when this migration created it
