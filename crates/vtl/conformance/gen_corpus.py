#!/usr/bin/env python3
"""Generates a seeded random corpus of Velocity templates for the
differential test: random compositions of text, references, #set, #if,
#foreach, arithmetic and comparisons over the fixture's variables, so both
engines see shapes nobody wrote by hand. Usage: gen_corpus.py OUT_DIR [N] [SEED]"""
import os
import random
import sys

out = sys.argv[1]
n = int(sys.argv[2]) if len(sys.argv) > 2 else 300
rng = random.Random(int(sys.argv[3]) if len(sys.argv) > 3 else 1)
os.makedirs(out, exist_ok=True)

REFS = ["$name", "${name}", "$!name", "$n", "$neg", "$pi", "$yes", "$no", "$list", "$nums",
        "$map.k", "$map.num", "$map.inner.deep", "$list[0]", "$list.size()", "$name.length()",
        "$people[1].name", "$undefined", "$!undefined", "$map.nope", "$name.toUpperCase()",
        "$name.substring(1,3)", "$list.get(1)", "$map.get('k')", "$empty", "$!{name}", "${map.k}x",
        "$map['num']", "$people[0]['name']", "$nums[2]", "$name.charAt(0)", "$name.indexOf('r')",
        "$name.replace('o', '0')", "$name.replaceAll('[aeiou]', '_')", "$name.matches('W.*')",
        "$name.startsWith('Wo')", "$name.endsWith('x')", "$name.toLowerCase().trim()",
        "$name.split('o').size()", "$name.split('o')[1]", "$name.equals('World')", "$n.toString()",
        "$map.containsKey('k')", "$map.keySet()", "$map.values()", "$map.size()", "$list.isEmpty()",
        "$list.contains('c')", "$list.indexOf('b')", "$empty.isEmpty()", "$name.length()",
        "$map.inner", "$people[2]", "$!map.nope.deeper", "$map.entrySet()", "$pi.intValue()",
        "$nums.get(0).toString()", "$name.substring(2)", "$list.toString()", "$map.isEmpty()"]
NUMS = ["1", "2", "7", "-3", "0", "10", "$n", "$neg", "$map.num", "$list.size()", "2.5", "$pi"]
TEXT = ["a", "b c", " ", "\n", "  ", "}", "\"", ",", ": ", "x\n  ", "\t", "\n\n", "$ ", "# x",
        "\\$name", "\\\\$name", "\\$undefined", "\\#set($z = 1)", "\\#end", " ## note\n",
        "#* block\n comment *#", "#[[ $raw #if ]]#", "{\"k\": ", "$1.5", "a#b", "\\ ", "\r\n",
        "  \n", "\t\n", "mail@x.com", "$map.", "#{end}x"]


def num_expr(d=0):
    if d > 2 or rng.random() < 0.4:
        return rng.choice(NUMS)
    op = rng.choice(["+", "-", "*", "/", "%"])
    e = f"{num_expr(d + 1)} {op} {num_expr(d + 1)}"
    return f"({e})" if rng.random() < 0.3 else e


def cond(d=0):
    r = rng.random()
    if d < 2 and r < 0.25:
        return f"{cond(d + 1)} {rng.choice(['&&', '||', 'and', 'or'])} {cond(d + 1)}"
    if d < 2 and r < 0.35:
        return f"!{rng.choice(['$yes', '$no', '$undefined', '$empty'])}"
    if d < 2 and r < 0.4:
        return f"not {rng.choice(['$yes', '$no', '$undefined'])}"
    if r < 0.7:
        op = rng.choice(["==", "!=", "<", ">", "<=", ">=", "eq", "ne", "gt", "lt", "ge", "le"])
        return f"{num_expr(2)} {op} {num_expr(2)}"
    return rng.choice(["$yes", "$no", "$undefined", "true", "false", "$name == 'World'", "$list.contains('b')",
                       "$name", "$empty", "$map.nope", "$list", "$name != $empty", "$v", "$w",
                       "$map.num == 42", "$name == \"World\"", "$list[0] == 'a'", "$n == 5.0",
                       "$name.startsWith('W')", "$map.containsKey('k') && $n > 1", "$list.isEmpty()"])


def value():
    r = rng.random()
    if r < 0.3:
        return num_expr()
    if r < 0.5:
        return rng.choice(["'s'", "\"q $name\"", "\"$n-$neg\"", "'x y'"])
    if r < 0.6:
        return rng.choice(["[1, 2, 3]", "[]", "['a', $name]", "[1..3]", "[3..1]", "[$n..7]",
                           "{'a': 1, 'b': $name}", "{}", "{\"k\": [1, 2]}", "\"${name}s\"",
                           "\"$name.length() chars\"", "'single $name'", "\"a\"\"b\"",
                           "\"#if($yes)y#{else}n#end\"", "$name + '!'", "$n + 'x'",
                           "$list.size() * 2", "true", "false", "$map", "$people[1]"])
    return rng.choice(REFS)


def block(d=0):
    parts = []
    for _ in range(rng.randint(1, 5)):
        r = rng.random()
        if r < 0.3:
            parts.append(rng.choice(TEXT))
        elif r < 0.5:
            parts.append(rng.choice(REFS))
        elif r < 0.62:
            var = rng.choice(["$v", "$w", "$x"])
            nl = rng.choice(["", "\n", "  \n"])
            parts.append(f"{rng.choice(['', '  ', ' '])}#set({var} = {value()}){nl}")
            parts.append(rng.choice(["$v", "$w", "$x", "$!v", ""]))
        elif r < 0.8 and d < 3:
            nl = rng.choice(["", "\n"])
            s = f"#if({cond()}){nl}{block(d + 1)}"
            if rng.random() < 0.4:
                s += f"#elseif({cond()}){nl}{block(d + 1)}"
            if rng.random() < 0.5:
                s += f"#else{nl}{block(d + 1)}"
            parts.append(s + f"#end{nl}")
        elif r < 0.85:
            parts.append(rng.choice([
                " #macro(m $a $b)<$a|$b>#end#m($name 2)",
                "#macro(tag $x)\n<$x>\n#end\n#tag('p')#tag($n)",
                "#define($blk)B$name#end$blk$blk",
                "#set($m = {})#set($m.k = 1)#set($m['j'] = 'two')$m",
                "#set($l = [1, 2])#set($l[0] = 'z')$l$l.add(3)$l",
                "#set($s = \"a$name\")$s.length()",
                "#if($yes)#stop#end after",
                "${name}text$!{undefined}text",
                "  #if($yes)\n  in\n  #end\n",
                "\t#set($q = 1)\n$q",
                "#{if}($yes)Y#{else}N#{end}",
                "#foreach($k in $map.keySet())$k=$map.get($k)#if($foreach.hasNext), #end#end",
                "#foreach($e in $map.entrySet())$e.key:$e.value;#end",
                "#foreach($i in [1..5])#if($i > 2)#break#end$i#end",
                "#foreach($i in $list)$foreach.count/$velocityCount #end",
                "#set($t = $n / 2)$t #set($t = $pi * 2)$t #set($t = 7 % 3)$t",
            ]))
        elif d < 2:
            nl = rng.choice(["", "\n"])
            coll = rng.choice(["$list", "$nums", "[1..3]", "$people", "$map.keySet()", "[]", "$undefined"])
            body = block(d + 1) + rng.choice(["$i", "$velocityCount", "$foreach.index", "#if($foreach.hasNext),#end", ""])
            parts.append(f"#foreach($i in {coll}){nl}{body}#end{nl}")
        else:
            parts.append(rng.choice(TEXT))
    return "".join(parts)


for i in range(n):
    with open(os.path.join(out, f"gen_{i:04d}.vm"), "w", newline="") as f:
        f.write(block())
print(f"generated {n} templates in {out}")
