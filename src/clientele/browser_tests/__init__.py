"""Browser tests: the pages people use, driven in headless Chromium through Playwright."""
