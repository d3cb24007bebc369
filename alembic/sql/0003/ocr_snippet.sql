-- aio.ocr_snippet(body, q): revision 0003.
-- Replaces 0001/ocr_snippet.sql; 0003's downgrade restores that one.
-- Replaced by 0004/ocr_snippet.sql, whose downgrade restores this one.

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
