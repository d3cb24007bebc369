-- aio.code_query(part): revision 0004.
-- The current definition (head).

-- What a code of a query matches: the whole code, or (3 characters and more) the code inside a longer one.
CREATE OR REPLACE FUNCTION aio.code_query(part text) RETURNS tsquery LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
AS $$
DECLARE
  code text;
  grams tsquery;
  one tsquery;
  result tsquery;
BEGIN
  FOREACH code IN ARRAY aio.code_list(part, true) LOOP
    one := (quote_literal(code) || ':AB')::tsquery;
    IF char_length(code) >= 3 THEN
      grams := NULL;
      FOR i IN 1 .. char_length(code) - 2 LOOP
        grams := CASE WHEN grams IS NULL THEN (quote_literal(substr(code, i, 3)) || ':BC')::tsquery
                      ELSE tsquery_phrase(grams, (quote_literal(substr(code, i, 3)) || ':C')::tsquery) END;
      END LOOP;
      one := one || grams;
    END IF;
    result := CASE WHEN result IS NULL THEN one ELSE result && one END;
  END LOOP;
  RETURN result;
END
$$;
