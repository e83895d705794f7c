"""The fetcher: pulls exports out of Cognigy.AI page by page, with resume tokens, into `pages.raw`."""
