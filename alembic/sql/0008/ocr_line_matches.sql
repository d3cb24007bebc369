-- aio.ocr_line_matches(body, pattern, max_lines, plain): revision 0008.
-- The current definition (head).

-- The first lines of an OCR document (aio.ocr_document.body) that match a pattern of aio.match_pattern, top to
-- bottom: each as the photo has it (plain text) with the characters that matched (aio.match_ranges; plain as
-- there). Lines are read only until max_lines have matched.
CREATE FUNCTION aio.ocr_line_matches(body text, pattern text, max_lines integer DEFAULT 2, plain boolean DEFAULT false)
RETURNS TABLE (line integer, text text, ranges jsonb)
LANGUAGE plpgsql STABLE PARALLEL SAFE
AS $$
DECLARE
  lines text[] := string_to_array(body, E'\n');
  found integer := 0;
BEGIN
  IF pattern IS NULL OR lines IS NULL THEN
    RETURN;
  END IF;
  FOR i IN 1 .. array_length(lines, 1) LOOP
    EXIT WHEN found >= max_lines;
    ranges := aio.match_ranges(lines[i], pattern, plain);
    IF ranges IS NOT NULL THEN
      line := i;
      text := lines[i];
      found := found + 1;
      RETURN NEXT;
    END IF;
  END LOOP;
END
$$;
