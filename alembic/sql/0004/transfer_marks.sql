-- aio.transfer_marks(original, marked): revision 0004.
-- The current definition (head).

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
