"""cognigy-archiver: the command line, the demo, and process supervision for the five stages."""
