-- aio.term_query(term, exact): revision 0011.
-- Replaces 0004/term_query.sql (which becomes aio.term_form_query, unchanged but for its name); 0011's
-- downgrade restores it.
-- The current definition (head).

-- One term of a query in each of its spellings: the term as normalised, and the same with a character that
-- one Traditional character serves for replaced by the others it serves for (aio.char_variant: 帳 is 帐 and,
-- in Taiwan, 账; so 对账单 also looks for 对帐单, the normalised form of 對帳單). Any of them matches; at most
-- 8 spellings.
CREATE OR REPLACE FUNCTION aio.term_query(term text, exact boolean) RETURNS tsquery
LANGUAGE plpgsql STABLE PARALLEL SAFE
AS $$
DECLARE
  n text := aio.normalize(term);
  forms text[] := ARRAY[n];
  v record;
  form text;
  one tsquery;
  result tsquery;
BEGIN
  FOR v IN SELECT m.src, m.alt FROM aio.char_variant AS m WHERE strpos(n, m.src) > 0 ORDER BY m.src, m.alt LOOP
    forms := forms || ARRAY(SELECT replace(f, v.src, v.alt) FROM unnest(forms) AS f);
    EXIT WHEN cardinality(forms) >= 8;
  END LOOP;
  FOREACH form IN ARRAY forms[1:8] LOOP
    one := aio.term_form_query(form, exact);
    CONTINUE WHEN one IS NULL OR numnode(one) = 0;
    result := CASE WHEN result IS NULL THEN one WHEN result::text = one::text THEN result ELSE result || one END;
  END LOOP;
  RETURN result;
END
$$;
