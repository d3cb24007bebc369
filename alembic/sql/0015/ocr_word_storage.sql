-- The lists' storage settings: revision 0015. The current definition (head).
--
-- A search reads the top of a list, a page at a time. PostgreSQL judges a parallel read of a large list cheaper,
-- but starting its workers takes longer (about 30 ms at 1 000 000 photos) than the whole serial read of a page
-- (about 2 ms): the lists are never read in parallel. Autovacuum visits the lists often, as 0005 set, so that
-- they are read from the index alone.

ALTER TABLE aio.ocr_word SET (parallel_workers = 0, autovacuum_vacuum_insert_scale_factor = 0.02,
                              autovacuum_vacuum_scale_factor = 0.02);
