-- The index aio.ocr_word_by_asset: revision 0007.
-- The current definition (head).
--
-- The other words of a document, by asset, for aio.or_matches' check: only the Chinese words, as the
-- words of an OR are.

CREATE INDEX ocr_word_by_asset ON aio.ocr_word (asset_id, rank DESC) INCLUDE (word)
  WHERE is_word AND word ~ '^[一-鿿㐀-䶿豈-﫿぀-ヿ가-힯]{2,}$'
