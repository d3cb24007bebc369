-- aio.ocr_matches(ids, query, max_lines): revision 0008.
-- The current definition (head).

-- Why each photo of a search matched by its text: for the photos (ids) whose OCR document matches the query
-- (aio.ocr_query, the search's own parsing and normalisation), their first matching lines as plain text with
-- the ranges of characters that matched (as aio.ocr_line_matches, written out here: one call for a page of
-- results, and the lines of a plain document tested in their lower case before any range is computed). Photos
-- that do not match have no rows; a query with nothing to look for (punctuation) has none at all. The Immich
-- patch calls this for a page of results.
CREATE FUNCTION aio.ocr_matches(ids uuid[], query text, max_lines integer DEFAULT 2)
RETURNS TABLE (asset_id uuid, line integer, text text, ranges jsonb)
LANGUAGE plpgsql STABLE
AS $$
DECLARE
  q tsquery := aio.ocr_query(query);
  pattern text := aio.match_pattern(q);
  doc record;
  lines text[];
  found integer;
BEGIN
  IF pattern IS NULL THEN
    RETURN;
  END IF;
  -- The page's documents by id, then the query tested on each: never a scan of the text index, whose matches
  -- for a frequent word are a large part of the library.
  FOR doc IN
    WITH page AS MATERIALIZED (
      SELECT d.asset_id, d.body, d.plain, d.tsv FROM aio.ocr_document d WHERE d.asset_id = ANY (ids)
    )
    SELECT p.asset_id, p.body, p.plain FROM page p WHERE p.tsv @@ q ORDER BY p.asset_id
  LOOP
    lines := string_to_array(doc.body, E'\n');
    found := 0;
    FOR i IN 1 .. coalesce(array_length(lines, 1), 0) LOOP
      EXIT WHEN found >= max_lines;
      CONTINUE WHEN doc.plain AND lower(lines[i]) !~ pattern;
      ranges := aio.match_ranges(lines[i], pattern, doc.plain);
      IF ranges IS NOT NULL THEN
        asset_id := doc.asset_id;
        line := i;
        text := lines[i];
        found := found + 1;
        RETURN NEXT;
      END IF;
    END LOOP;
  END LOOP;
END
$$;
