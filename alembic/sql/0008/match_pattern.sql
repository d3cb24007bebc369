-- aio.match_pattern(q): revision 0008.
-- Replaced by 0013/match_pattern.sql, whose downgrade restores this one.

-- The words of a query (aio.ocr_query) as one regular expression over normalised text (aio.normalize), longest
-- first: what aio.ocr_snippet (0004) marked, taken out so that every match function shares it. Excluded words
-- and the trigrams of a code (weight C) are no places to mark: a whole code marks its place, with the separators
-- OCR may have read inside it (粤B·88888 for b88888). NULL when the query has nothing to mark.
CREATE FUNCTION aio.match_pattern(q tsquery) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
  WITH terms AS (
    SELECT DISTINCT replace(m[2], '''''', '''') AS term
    FROM regexp_matches(coalesce(q::text, ''), '(!?)''((?:[^'']|'''')+)''(:[A-D*]+)?', 'g') AS m
    WHERE m[1] = '' AND length(m[2]) > 0 AND strpos(coalesce(m[3], ''), 'C') = 0
  )
  SELECT string_agg(
           CASE WHEN term ~ '^[0-9a-z]+$' AND term ~ '[0-9]'
                THEN (SELECT string_agg(ch, '[ ·・./:,_-]?' ORDER BY k)
                      FROM regexp_split_to_table(term, '') WITH ORDINALITY AS s(ch, k))
                ELSE regexp_replace(term, '([.^$*+?()\[\]{}|\\-])', '\\\1', 'g') END,
           '|' ORDER BY length(term) DESC, term)
  FROM terms
$$;
