-- aio.code_tsvector(n): revision 0004.
-- The current definition (head).

-- Each code whole (B) and, from 4 characters on, its trigrams in order (C); codes do not touch. (Codes are
-- letters and digits only: no quoting needed. A loop here costs a fifth of a set-based query.)
CREATE OR REPLACE FUNCTION aio.code_tsvector(n text) RETURNS tsvector LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
AS $$
DECLARE
  code text;
  items text[] := '{}';
  pos integer := 1;
  len integer;
BEGIN
  FOREACH code IN ARRAY aio.code_list(n) LOOP
    len := char_length(code);
    items := items || (code || ':' || least(pos, 16383) || 'B');
    IF len >= 4 THEN
      FOR i IN 1 .. len - 2 LOOP
        items := items || (substr(code, i, 3) || ':' || least(pos + i, 16383) || 'C');
      END LOOP;
    END IF;
    pos := pos + len + 2;
  END LOOP;
  RETURN array_to_string(items, ' ')::tsvector;
END
$$;
