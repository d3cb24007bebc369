-- aio.match_pattern(q): revision 0013.
-- Replaces 0008/match_pattern.sql; 0013's downgrade restores that one.
-- The current definition (head).
--
-- As in 0008, with the runs the query reads as character pairs in a row ('ガソ':D <-> 'ソリ':D <-> 'リン':D, for
-- kana and for Chinese that is no dictionary word) added whole (ガソリン): the pairs alone match side by side,
-- each character once, so a run of odd length (カ゛ソリン, うどん) was marked short of its last character.

-- The words of a query (aio.ocr_query) as one regular expression over normalised text (aio.normalize), longest
-- first: what aio.ocr_snippet (0004) marked, taken out so that every match function shares it. Excluded words
-- and the trigrams of a code (weight C) are no places to mark: a whole code marks its place, with the separators
-- OCR may have read inside it (粤B·88888 for b88888). NULL when the query has nothing to mark.
CREATE OR REPLACE FUNCTION aio.match_pattern(q tsquery) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
  WITH terms AS (
    SELECT DISTINCT replace(m[2], '''''', '''') AS term
    FROM regexp_matches(coalesce(q::text, ''), '(!?)''((?:[^'']|'''')+)''(:[A-D*]+)?', 'g') AS m
    WHERE m[1] = '' AND length(m[2]) > 0 AND strpos(coalesce(m[3], ''), 'C') = 0
    UNION
    SELECT (SELECT string_agg(CASE WHEN p.k = 1 THEN p.pair[1] ELSE right(p.pair[1], 1) END, '' ORDER BY p.k)
            FROM regexp_matches(c[1], '''([^'']+)'':D', 'g') WITH ORDINALITY AS p(pair, k))
    FROM regexp_matches(coalesce(q::text, ''), '(''[^'']+'':D(?: <-> ''[^'']+'':D)+)', 'g') AS c
  )
  SELECT string_agg(
           CASE WHEN term ~ '^[0-9a-z]+$' AND term ~ '[0-9]'
                THEN (SELECT string_agg(ch, '[ ·・./:,_-]?' ORDER BY k)
                      FROM regexp_split_to_table(term, '') WITH ORDINALITY AS s(ch, k))
                ELSE regexp_replace(term, '([.^$*+?()\[\]{}|\\-])', '\\\1', 'g') END,
           '|' ORDER BY length(term) DESC, term)
  FROM terms
$$;
