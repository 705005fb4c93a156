# cmake -DIN=obj -DOUT=cpp -DNAME=symbol -P embed.cmake: the bytes of IN as a C++ array, so
# dnsd carries its XDP program and needs no file at run time.
file(READ "${IN}" hex HEX)
string(LENGTH "${hex}" n)
math(EXPR size "${n} / 2")
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${hex}")
file(WRITE "${OUT}" "#include <cstddef>\n#include <cstdint>\nnamespace dnsd {\nextern const uint8_t ${NAME}[] = {${bytes}};\nextern const size_t ${NAME}Size = ${size};\n}\n")
