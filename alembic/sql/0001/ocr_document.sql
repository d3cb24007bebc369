-- aio.ocr_document, one OCR document per asset: revision 0001.
-- The current definition (head), with the column plain that 0004 adds (ALTER TABLE).

CREATE TABLE aio.ocr_document (
  asset_id uuid PRIMARY KEY REFERENCES public.asset (id) ON DELETE CASCADE,
  body text NOT NULL,
  tsv tsvector NOT NULL
);
CREATE INDEX ocr_document_tsv_idx ON aio.ocr_document USING gin (tsv);
