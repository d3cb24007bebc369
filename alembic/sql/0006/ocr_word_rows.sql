-- aio.ocr_word_rows(tsv, plain): revision 0006.
-- Replaces 0005/ocr_word_rows.sql; 0006's downgrade restores that one.
-- The current definition (head).

-- As in 0005, and single characters (ranked as a query of one character, ':AD'), and Latin words and codes of
-- four characters or more (ranked as a query of the lexeme alone, any weight).
CREATE OR REPLACE FUNCTION aio.ocr_word_rows(tsv tsvector, plain boolean)
RETURNS TABLE (word text, is_word boolean, rank real)
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
  SELECT u.lexeme, 'A' = ANY (u.weights),
         (CASE WHEN plain THEN 1.5 ELSE 1 END
          * aio.ocr_rank(tsv, (quote_literal(u.lexeme)
                                || CASE WHEN u.lexeme ~ '^[0-9a-z]{4,}$' THEN ''
                                        WHEN char_length(u.lexeme) = 1 THEN ':AD'
                                        WHEN 'A' = ANY (u.weights) THEN ':A' ELSE ':D' END)::tsquery))::real
  FROM unnest(tsv) AS u
  WHERE u.lexeme ~ '(^[一-鿿㐀-䶿豈-﫿぀-ヿ가-힯]$)|(^[一-鿿㐀-䶿豈-﫿぀-ヿ가-힯]{2,}$)|(^[0-9a-z]{4,}$)'
$$;
