-- aio.match_ranges(line, pattern, plain): revision 0008.
-- The current definition (head).

-- Where a line of OCR text matches a pattern of aio.match_pattern, in characters (code points) of the line as
-- the photo has it: [[start, end], ...], start counted from 0, end exclusive, adjacent matches (the words of a
-- phrase) as one. The pattern runs over the normalised line (aio.normalize keeps every character in place), so
-- 圖書館 is marked where 图书馆 matched; plain says the line's document is plain (aio.ocr_document.plain: its
-- normalised form is its lower case), which spares the normalisation. NULL when nothing matches. Plain text in,
-- numbers out: no markup.
CREATE FUNCTION aio.match_ranges(line text, pattern text, plain boolean DEFAULT false) RETURNS jsonb
LANGUAGE plpgsql STABLE PARALLEL SAFE
AS $$
DECLARE
  norm text;
  parts text[];
  pos integer := 0;
  n integer;
  range_start integer := -1;
  range_end integer := -1;
  ranges text := '';
BEGIN
  IF pattern IS NULL OR line IS NULL OR line = '' THEN
    RETURN NULL;
  END IF;
  -- U+E000 and U+E001 mark the matches below: the line's own are read as spaces (same length)
  line := translate(line, chr(57344) || chr(57345), '  ');
  norm := CASE WHEN plain THEN lower(line) ELSE aio.normalize(line) END;
  IF char_length(norm) = char_length(line) THEN
    IF norm !~ pattern THEN
      RETURN NULL;
    END IF;
    norm := regexp_replace(norm, '(' || pattern || ')', chr(57344) || '\1' || chr(57345), 'g');
  ELSIF line ~* pattern THEN
    norm := regexp_replace(line, '(' || pattern || ')', chr(57344) || '\1' || chr(57345), 'gi');
  ELSE
    RETURN NULL;
  END IF;
  -- before, match, between, match, ..., after: the matches are the even parts. The ranges are written as
  -- text and read as jsonb once (building jsonb a range at a time cost more than the matching).
  parts := regexp_split_to_array(norm, '[' || chr(57344) || chr(57345) || ']');
  FOR i IN 1 .. array_length(parts, 1) LOOP
    n := char_length(parts[i]);
    IF mod(i, 2) = 0 THEN
      IF pos <> range_end THEN
        IF range_start >= 0 THEN
          ranges := ranges || '[' || range_start || ',' || range_end || '],';
        END IF;
        range_start := pos;
      END IF;
      range_end := pos + n;
    END IF;
    pos := pos + n;
  END LOOP;
  IF range_start < 0 THEN
    RETURN NULL;
  END IF;
  RETURN ('[' || ranges || '[' || range_start || ',' || range_end || ']]')::jsonb;
END
$$;
