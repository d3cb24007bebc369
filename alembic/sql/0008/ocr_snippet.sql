-- aio.ocr_snippet(body, q): revision 0008.
-- Replaces 0004/ocr_snippet.sql; 0008's downgrade restores that one.
-- The current definition (head).

-- The (at most two) lines that matched, as HTML: the OCR text escaped, the places where the normalised text
-- matched in <b></b> (0004's marks, now from aio.match_ranges; 0004 put the OCR text out unescaped).
CREATE OR REPLACE FUNCTION aio.ocr_snippet(body text, q tsquery) RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE
AS $$
  SELECT string_agg(aio.marked_html(m.text, m.ranges), ' … ' ORDER BY m.line)
  FROM aio.ocr_line_matches(body, aio.match_pattern(q), 2) m
$$;
