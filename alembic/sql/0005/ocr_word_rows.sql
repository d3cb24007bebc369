-- aio.ocr_word_rows(tsv, plain): revision 0005.
-- Replaced by 0006/ocr_word_rows.sql, whose downgrade restores this one.

-- The listed words of a document with their rank there, times 1.5 for a plain document (aio.ocr_search
-- ranks exact forms first, and most queries are typed plain). A word (weight A) ranks as a query of that
-- one word ranks it ('word':A); a two-character word present only as characters ranks as they do
-- (':D'), far below.
CREATE OR REPLACE FUNCTION aio.ocr_word_rows(tsv tsvector, plain boolean)
RETURNS TABLE (word text, is_word boolean, rank real)
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
  SELECT u.lexeme, 'A' = ANY (u.weights),
         (CASE WHEN plain THEN 1.5 ELSE 1 END
          * aio.ocr_rank(tsv, (quote_literal(u.lexeme) || CASE WHEN 'A' = ANY (u.weights) THEN ':A' ELSE ':D' END)
                                ::tsquery))::real
  FROM unnest(tsv) AS u
  WHERE u.lexeme ~ '^[一-鿿㐀-䶿豈-﫿぀-ヿ가-힯]{2,}$'
$$;
