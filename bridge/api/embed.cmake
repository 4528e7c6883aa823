# Writes IN (a text file) into OUT as a C string, NAME and NAME_len:
#   cmake -DIN=comments.js -DOUT=comments_js.c -DNAME=api_comments_js -P embed.cmake
# (no xxd needed: the bytes are escaped as C string literal pieces).
file(READ "${IN}" text)
string(LENGTH "${text}" len)
string(REPLACE "\\" "\\\\" text "${text}")
string(REPLACE "\"" "\\\"" text "${text}")
string(REPLACE "?" "\\?" text "${text}")
string(REPLACE "\t" "\\t" text "${text}")
string(REPLACE "\r" "\\r" text "${text}")
string(REPLACE "\n" "\\n\"\n\"" text "${text}")
file(WRITE "${OUT}.tmp"
  "/* Generated from ${IN} by embed.cmake: do not edit. */\n"
  "#include <stddef.h>\n"
  "const char ${NAME}[] =\n\"${text}\";\n"
  "const size_t ${NAME}_len = sizeof(${NAME}) - 1;\n")
file(RENAME "${OUT}.tmp" "${OUT}")
