// The browser half of the e2e tier (tests/test_e2e.py): Debian's chromium driven by playwright-core.
//   node e2e_browser.mjs <playwright-core dir> <immich url> <email> <password> <screenshot dir> <expected count>
// Logs in through the login form, searches `ocr:发票` from the search bar, checks the thumbnails, opens
// the first photo, runs "Regenerate OCR" from its menu and waits for the toast. Prints a JSON summary.
import { createRequire } from 'node:module';
import path from 'node:path';

const [playwrightDir, baseUrl, email, password, shots, expectedCount] = process.argv.slice(2);
const require = createRequire(import.meta.url);
const { chromium } = require(path.join(playwrightDir, 'playwright-core'));

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update'],
});
const summary = {};
try {
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 }, locale: 'en-US' });
  page.setDefaultTimeout(60_000);

  await page.goto(`${baseUrl}/auth/login`);
  await page.locator('#email').fill(email);
  await page.locator('#password').fill(password);
  await page.getByRole('button', { name: 'Login' }).click();
  await page.waitForURL(/\/photos/);
  await page.screenshot({ path: path.join(shots, '1-logged-in.png') });

  const searchBar = page.locator('#main-search-bar');
  await searchBar.click();
  await searchBar.fill('ocr:发票');
  await searchBar.press('Enter');
  await page.waitForURL(/\/search/);
  const thumbnails = page.locator('[data-thumbnail-focus-container]');
  // The result grid may render more than once while it lays out: read it once it holds them all.
  const shown = await page.waitForFunction((count) => {
    const ids = [...document.querySelectorAll('[data-thumbnail-focus-container]')].map((node) =>
      node.getAttribute('data-asset'),
    );
    return ids.length >= count && ids.every(Boolean) ? ids : null;
  }, Number(expectedCount));
  summary.thumbnails = await shown.jsonValue();
  summary.searchUrl = decodeURIComponent(page.url());
  // The screenshot should show the photos, not their placeholders: wait for every thumbnail to load.
  await page.waitForFunction(() =>
    [...document.querySelectorAll('[data-thumbnail-focus-container] img')].every((img) => img.complete && img.naturalWidth > 0),
  );
  await page.waitForTimeout(500); // the fade-in
  await page.screenshot({ path: path.join(shots, '2-search-ocr-invoice.png') });

  await thumbnails.first().click();
  await page.waitForSelector('#immich-asset-viewer');
  summary.opened = page.url();
  // A toast lives 3 s; on a loaded machine polling for it can miss it, so a MutationObserver records
  // every toast text the page shows from here on, and the job request itself is awaited.
  await page.evaluate(() => {
    window.aioToasts = [];
    const keep = (text) => {
      text = text.trim();
      if ((text.startsWith('Regenerating') || text.startsWith('Unable')) && !window.aioToasts.includes(text)) {
        window.aioToasts.push(text);
      }
    };
    new MutationObserver((records) => {
      for (const record of records) {
        if (record.type === 'characterData') {
          keep(record.target.data);
        }
        for (const node of record.addedNodes) {
          const texts = document.createTreeWalker(node, NodeFilter.SHOW_TEXT);
          for (let text = node.nodeType === Node.TEXT_NODE ? node : texts.nextNode(); text; text = texts.nextNode()) {
            keep(text.data);
          }
        }
      }
    }).observe(document.body, { childList: true, subtree: true, characterData: true });
  });
  // The viewer may still be settling (its image, and on v3.1.0 the matched-box overlay it turns on) when the
  // menu opens, and a re-render can close the menu under the click: then no request leaves. Only a request
  // that was never sent is retried, so the job is asked for once.
  const isJobRequest = (request) => request.url().endsWith('/api/assets/jobs') && request.method() === 'POST';
  const moreButton = page.getByRole('button', { name: 'More' });
  const menuItem = page.getByText('Regenerate OCR', { exact: true });
  let jobRequest = null;
  for (let attempt = 1; !jobRequest; attempt++) {
    // Immich's menu button says whether its menu is open (the items may be in the page while it is shut).
    if ((await moreButton.getAttribute('aria-expanded')) !== 'true') {
      await moreButton.click();
    }
    const sent = page.waitForRequest(isJobRequest, { timeout: 15_000 }).catch(() => null);
    await menuItem.click({ timeout: 15_000 }).catch((error) => {
      summary.menuErrors = [...(summary.menuErrors ?? []), String(error.message).split('\n')[0]];
    });
    jobRequest = await sent;
    if (!jobRequest) {
      summary.menuAttempts = attempt;
      if (attempt === 3) {
        throw new Error('three clicks on "Regenerate OCR" sent no request to /api/assets/jobs');
      }
    }
  }
  const jobResponse = await jobRequest.response();
  summary.jobStatus = jobResponse.status();
  summary.jobRequest = jobResponse.request().postDataJSON();
  await page.waitForFunction(() => window.aioToasts.length > 0);
  await page.screenshot({ path: path.join(shots, '3-regenerate-ocr-toast.png') });
  summary.toasts = await page.evaluate(() => window.aioToasts);
} catch (error) {
  const page = browser.contexts()[0]?.pages()[0];
  if (page) {
    await page.screenshot({ path: path.join(shots, 'failure.png') }).catch(() => {});
  }
  summary.error = String(error?.stack || error);
  summary.toasts ??= await page?.evaluate(() => window.aioToasts).catch(() => undefined);
} finally {
  await browser.close();
}
console.log(JSON.stringify(summary));
process.exit(summary.error ? 1 : 0);
