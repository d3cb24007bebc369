-- aio.term_query(term, exact): revision 0004.
-- Replaces 0001/term_query.sql; 0004's downgrade restores that one.
-- Replaced by 0011/term_query.sql (under the name aio.term_form_query), whose downgrade restores this one.

-- One term of a query, normalised: CJK runs and other runs, all required; codes in other runs also
-- match as codes.
CREATE OR REPLACE FUNCTION aio.term_query(term text, exact boolean) RETURNS tsquery
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET zhparser.multi_short = off
SET zhparser.punctuation_ignore = on
AS $$
DECLARE
  n text := aio.normalize(term);
  found text[];
  part text;
  piece tsquery;
  codes tsquery;
  result tsquery;
BEGIN
  -- a date typed with any separators matches the yyyymmdd the documents carry
  FOR found IN SELECT r.m FROM regexp_matches(n, '(?<![0-9])([12][0-9]{3}) *[-./年] *([01]?[0-9]) *[-./月] *([0-3]?[0-9])日?(?![0-9])', 'g') AS r(m) LOOP
    piece := aio.code_query(found[1] || lpad(found[2], 2, '0') || lpad(found[3], 2, '0'));
    result := CASE WHEN result IS NULL THEN piece ELSE result && piece END;
  END LOOP;
  n := regexp_replace(n, '(?<![0-9])([12][0-9]{3}) *[-./年] *([01]?[0-9]) *[-./月] *([0-3]?[0-9])日?(?![0-9])', ' ', 'g');
  FOR part IN SELECT m[1] FROM regexp_matches(n, '([一-鿿㐀-䶿豈-﫿぀-ヿ가-힯]+|[^一-鿿㐀-䶿豈-﫿぀-ヿ가-힯]+)', 'g') AS m LOOP
    IF part ~ '^[一-鿿㐀-䶿豈-﫿぀-ヿ가-힯]' THEN
      piece := aio.cjk_run_query(part, exact);
    ELSE
      piece := CASE WHEN exact THEN phraseto_tsquery('aio.zh', part) ELSE plainto_tsquery('aio.zh', part) END;
      codes := aio.code_query(part);
      IF codes IS NOT NULL THEN
        piece := CASE WHEN piece IS NULL OR numnode(piece) = 0 THEN codes ELSE piece || codes END;
      END IF;
    END IF;
    IF piece IS NULL OR numnode(piece) = 0 THEN
      CONTINUE;
    END IF;
    result := CASE WHEN result IS NULL THEN piece ELSE result && piece END;
  END LOOP;
  RETURN result;
END
$$;
