-- The lists' storage settings: revision 0015. The current definition (head).
--
-- A search reads the top of a list, a page at a time. PostgreSQL judges a parallel read of a large list cheaper,
-- but starting its workers takes longer (about 30 ms at 1 000 000 photos) than the whole serial read of a page
-- (about 2 ms): the lists are never read in parallel. Autovacuum visits the lists often, as 0005 set, so that
-- they are read from the index alone. The planner reads a list in order, a page at a time, only where it knows
-- the list is long; with the default statistics (100 most common words from a sample of 30 000 rows) a list
-- of hundreds of photos could be estimated at 30, and was then read whole and sorted: 1000 words, from 300 000
-- rows.

ALTER TABLE aio.ocr_word SET (parallel_workers = 0, autovacuum_vacuum_insert_scale_factor = 0.02,
                              autovacuum_vacuum_scale_factor = 0.02);
ALTER TABLE aio.ocr_word ALTER COLUMN word SET STATISTICS 1000;
