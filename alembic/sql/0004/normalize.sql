-- aio.normalize(t): revision 0004.
-- The current definition (head).
--
-- The one placeholder in braces below is data, filled in by 0004's normalize_sql(): the phrases of
-- aio.phrase_map (from OpenCC's TSPhrases), longest first, joined by |. Everything else is as installed.

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
