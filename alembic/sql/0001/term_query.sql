-- aio.term_query(term, exact): revision 0001.
-- Replaced by 0004/term_query.sql, whose downgrade restores this one.
--
-- One term of a query (a word, or a quoted phrase when exact): CJK runs and other runs, all required.

CREATE OR REPLACE FUNCTION aio.term_query(term text, exact boolean) RETURNS tsquery
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET zhparser.multi_short = off
SET zhparser.punctuation_ignore = on
AS $$
DECLARE
  part text;
  piece tsquery;
  result tsquery;
BEGIN
  FOR part IN SELECT m[1] FROM regexp_matches(term, '([一-鿿㐀-䶿豈-﫿぀-ヿ가-힯]+|[^一-鿿㐀-䶿豈-﫿぀-ヿ가-힯]+)', 'g') AS m LOOP
    IF part ~ '^[一-鿿㐀-䶿豈-﫿぀-ヿ가-힯]' THEN
      piece := aio.cjk_run_query(part, exact);
    ELSIF exact THEN
      piece := phraseto_tsquery('aio.zh', part);
    ELSE
      piece := plainto_tsquery('aio.zh', part);
    END IF;
    IF piece IS NULL OR numnode(piece) = 0 THEN
      CONTINUE;
    END IF;
    result := CASE WHEN result IS NULL THEN piece ELSE result && piece END;
  END LOOP;
  RETURN result;
END
$$;
