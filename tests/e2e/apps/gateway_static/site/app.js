document.title = "static e2e app";
