-- aio.ocr_snippet(body, q): revision 0004.
-- Replaces 0003/ocr_snippet.sql; 0004's downgrade restores that one.
-- Replaced by 0008/ocr_snippet.sql, whose downgrade restores this one.

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
                  THEN (SELECT string_agg(ch, '[ ·・./:,_-]?' ORDER BY k)
                        FROM regexp_split_to_table(term, '') WITH ORDINALITY AS s(ch, k))
                  ELSE regexp_replace(term, '([.^$*+?()\[\]{}|\\-])', '\\\1', 'g') END,
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
