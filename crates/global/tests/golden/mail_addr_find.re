/^re\+(.*)@example\.net$/ re-$1
