"""Hand-written pieces that ``make_corpus.py`` combines into composed demo reviews.

Everything here was written by the project for the demo corpus. Names and titles are invented.
Each opinion or closer carries construction codes: N negation, C contrast, I intensifier,
H hedge, S sarcasm (P plot summary is added by the composer). ``names`` and ``numbers`` tags are
detected from the finished text. Placeholders: ``{title}``, ``{director}``, ``{actor}`` (any),
``{actress}``/``{actor_m}`` (where a pronoun follows), ``{actor2}``, ``{writer}``, ``{year}``,
``{minutes}``, ``{count}``, ``{gap}``.
"""

from __future__ import annotations

# fmt: off
TITLES = [
    "The Salt Road", "Harbor Lights", "Midnight at the Orpheum", "Copper Sky", "Paper Lanterns",
    "The Last Ferry to Ostend", "Glass Orchard", "Northbound", "A Winter in Tbilisi",
    "The Quiet Hours", "Dog Days in Duluth", "Saint Agnes Road", "Velvet Static",
    "The Lighthouse Radio", "Blue Hour Heist", "Seven Small Fires", "Ballad of the Ninth Floor",
    "Tin Crown", "Orchid Island", "The Marseille Crate",
]
# fmt: on
# fmt: off
DIRECTORS = [
    "Mira Kowalczyk", "Tomas Ferreira", "Elena Vasquez-Hart", "Rohan Mehta", "Ingrid Solberg",
    "Abel Okonkwo", "Hana Sato", "Luca Bernardi", "Celine Dufresne", "Walt Brannigan",
]
# fmt: on
# fmt: off
ACTRESSES = [
    "Dana Whitlock", "Noor Haddad", "Pia Lindqvist", "Greta Amsel", "Yuki Tanabe",
    "Sofia Marchetti", "June Ashby",
]
# fmt: on
# fmt: off
ACTORS_M = [
    "Jules Okafor", "Marcus Bell", "Owen Castellano", "Teodor Brandt", "Idris Kamau",
    "Felix Ardent", "Ray Donnelly",
]
# fmt: on
# fmt: off
WRITERS = [
    "Agnes Mulvaney", "Piotr Zielinski", "Carmen Olivera", "Desmond Hale",
]
# fmt: on

OPENINGS = [
    "Saw this at a Tuesday matinee with maybe six other people.",
    "I went in knowing nothing about it.",
    "My partner picked this one for movie night.",
    "Caught it on a long flight back from Lisbon.",
    "I had been waiting for {title} since the first trailer.",
    "Full disclosure: I have read the novel twice.",
    "This was the closing film at the festival this year.",
    "I rented {title} on a rainy Sunday.",
    "A friend who works in film recommended it.",
    "I watched it with my teenage kids.",
    "We went to the 9:40 screening, so I was tired going in.",
    "I'm usually not one for costume dramas.",
    "I finally got around to {title} last night.",
    "Went to see this on opening weekend.",
    "I came to this one because of {actor}.",
    "It had been sitting on my watchlist for about a year.",
    "Second time watching it, this time on the big screen.",
    "All I knew going in was the poster.",
    "We picked it because the other screen was sold out.",
    "My book club chose this as our first film night.",
]

SUBJECTS = [
    "{title} is the third feature from {director}.",
    "It runs {minutes} minutes.",
    "{actor} plays the lead, with {actor2} in support.",
    "{director} wrote and directed it on what looks like a small budget.",
    "The film is set in {year} and shot mostly on location.",
    "{title} opened in {count} theaters last Friday.",
    "It's a remake of an Italian thriller from the seventies.",
    "The screenplay is adapted from a short story by {writer}.",
    "{title} is {director}'s first film in {gap} years.",
    "It's rated PG-13 and clocks in at just under two hours.",
    "The cast is led by {actor}.",
    "{actor} also co-wrote the script.",
    "It premiered at a festival in {year} before a small release.",
    "{director} shot the whole thing in {gap} weeks.",
]

PLOTS = [
    [
        "{actress} plays a night-shift nurse in 1970s Glasgow.",
        "When a patient vanishes from her ward, she starts asking questions.",
        "Her brother, a local constable, tells her to leave it alone.",
    ],
    [
        "A retired boxer inherits a failing bakery in a small coastal town.",
        "He has one summer to pay off the debt.",
        "His estranged daughter arrives to help, or so she says.",
    ],
    [
        "Two sisters drive across Nevada to scatter their father's ashes.",
        "Along the way they pick up a hitchhiker who claims he knew him.",
        "The trip takes four days and most of their savings.",
    ],
    [
        "The story follows a chess prodigy from Tbilisi during the 1986 championship.",
        "Her coach, played by {actor_m}, has secrets of his own.",
        "The Soviet officials watching her have even more.",
    ],
    [
        "A lighthouse keeper finds a radio that picks up broadcasts from next week.",
        "He uses them to warn the village about a storm.",
        "Nobody believes him until the second broadcast comes true.",
    ],
    [
        "{actress} is a public defender handling her first murder case.",
        "The defendant is a 19-year-old accused of setting fire to a warehouse.",
        "The trial takes up most of the running time.",
    ],
    [
        "Set over a single night in Lagos, the film follows a taxi driver and his five passengers.",
        "Each ride reveals a little more about a robbery earlier that evening.",
    ],
    [
        "An astronaut returns from six months on a space station to find her town has changed.",
        "Her husband has remarried and her son no longer speaks to her.",
        "She takes a job at the hardware store while she figures things out.",
    ],
    [
        "A wedding band plays one last gig before breaking up.",
        "The groom turns out to be the drummer's ex.",
        "Most of the film takes place in the hotel kitchen.",
    ],
    [
        "A botanist is sent to a remote island to catalogue a dying species of orchid.",
        "She soon learns that she is not the only one looking for it.",
    ],
    [
        "In 1952 Marseille, a dockworker agrees to smuggle a crate he is told not to open.",
        "He opens it on the second night.",
        "What he finds puts him between the police and a local gang.",
    ],
    [
        "A grieving chef enters a televised cooking contest under a false name.",
        "Her rival is the man who bought her late husband's restaurant.",
    ],
    [
        "A small-town mayor fakes a UFO sighting to save the local economy.",
        "Things get complicated when the army shows up.",
        "{actor_m} plays the mayor, and {actress} plays the reporter who smells a rat.",
    ],
    [
        "A hacker and a retired spy team up to find a stolen painting.",
        "The trail leads from Prague to a ski lodge in the Alps.",
    ],
    [
        "Three old friends reunite for a funeral in their hometown.",
        "Over one long weekend they reopen an argument from twenty years ago.",
    ],
    [
        "A substitute teacher takes over a rowdy class in the last month of the school year.",
        "The students bet on how long she will last.",
    ],
]

# (construction codes, text)
OPINIONS_POS = [
    ("", "A warm, funny, beautifully acted film."),
    ("", "{actor} gives the performance of a career here."),
    ("", "The script is sharp and the editing keeps it moving."),
    ("", "I laughed harder than I have in months."),
    ("", "It's a gorgeous, generous movie with a big heart."),
    ("", "Every scene feels lived in and true."),
    ("", "{director} handles the shifts in tone with real confidence."),
    ("", "The soundtrack alone is worth the ticket."),
    ("", "A smart, tender story told with great patience."),
    ("", "The final twenty minutes left the whole theater in tears."),
    ("", "It's clever without ever showing off."),
    ("", "The chemistry between the two leads is wonderful."),
    ("", "A thoroughly entertaining ride."),
    ("", "The cinematography is breathtaking, especially the night scenes."),
    ("", "It earns every one of its emotional moments."),
    ("", "Funny, moving and surprisingly wise."),
    ("", "A delightful surprise from beginning to end."),
    ("", "The cast is terrific and the writing is even better."),
    ("N", "Not bad at all, honestly."),
    ("N", "I did not expect to like it this much."),
    ("N", "There isn't a wasted scene in the whole thing."),
    ("N", "It never once feels like a lecture."),
    ("N", "Nobody in the cast hits a false note."),
    ("N", "I can't remember the last time a thriller kept me guessing like this."),
    ("N", "Not a single minute of it is boring."),
    ("N", "It doesn't put a foot wrong."),
    ("N", "This is not your usual paint-by-numbers biopic."),
    ("N", "You won't regret giving it a chance."),
    ("N", "I wasn't bored for a second."),
    ("N", "Far from the disaster the trailer suggested."),
    ("NC", "It's not perfect, but it is the most alive film I've seen this year."),
    ("C", "The first act drags, but the ending is worth every minute."),
    ("C", "The plot is thin, yet the performances carry it effortlessly."),
    ("C", "It's a little rough around the edges, but I loved it anyway."),
    ("C", "The budget was obviously tiny, but the craft is huge."),
    ("C", "Some of the jokes miss, though its heart is always in the right place."),
    ("C", "{actress} was miscast in her last film, but here she is perfect."),
    ("C", "The dialogue is clunky at times, yet the story is gripping."),
    ("C", "Despite a slow start, it becomes something really special."),
    ("C", "A silly premise, but a smart and touching movie."),
    ("C", "I hated the poster and loved the film."),
    ("I", "Absolutely stunning from start to finish."),
    ("I", "An utterly joyous experience."),
    ("I", "Easily the best film I've seen this year."),
    ("I", "The acting is incredibly good across the board."),
    ("I", "Simply wonderful, and extremely funny."),
    ("I", "A truly remarkable film from {director}."),
    ("I", "{actor} is completely magnetic in every scene."),
    ("I", "Hands down one of the finest thrillers of the decade."),
    ("I", "An extraordinarily moving piece of work."),
    ("H", "It's probably the best thing {director} has made."),
    ("H", "I think it mostly works, and the ending is lovely."),
    ("H", "Fairly charming, and perhaps better than it had any right to be."),
    ("H", "It's a pretty good film, I'd say, and worth a look."),
    ("HC", "Somewhat slow, maybe, but quietly beautiful."),
    ("H", "I suspect it will grow on me even more, and I already liked it a lot."),
    ("H", "More or less a delight."),
    ("HC", "It seems modest at first, but it quietly won me over."),
    ("S", "Terrible news for my mascara: I cried through the whole last act."),
    ("S", "Thanks a lot, {director}, now I have to buy the soundtrack."),
    ("S", "My only complaint is that it had to end."),
    ("S", "Warning: you will spend the next week quoting it to everyone you know."),
]

OPINIONS_NEG = [
    ("", "A dull, lifeless slog."),
    ("", "The script is a mess and the acting is wooden."),
    ("I", "{actor} looks bored in every single scene."),
    ("", "The pacing is awful and the jokes fall flat."),
    ("", "It's loud, ugly and far too long."),
    ("", "A tedious, muddled film that goes nowhere."),
    ("", "The dialogue is clumsy and the twist is obvious from the first scene."),
    ("", "I checked my phone more than I watched the screen."),
    ("", "The editing is so choppy I lost track of who was who."),
    ("", "Cheap-looking, badly written and far too long."),
    ("", "{director} seems to have no idea what story to tell."),
    ("", "The characters are cardboard and the plot is nonsense."),
    ("", "A waste of a talented cast."),
    ("", "Everything about it feels recycled."),
    ("", "The ending is a cheat."),
    ("", "It's a joyless, cynical cash grab."),
    ("", "A forgettable, sloppy sequel."),
    ("", "The performances are stiff and the story is a muddle."),
    ("N", "Not funny, not scary, not anything."),
    ("N", "There is nothing here you haven't seen done better."),
    ("N", "I could not wait for it to end."),
    ("N", "It never finds a reason to exist."),
    ("N", "Nobody seems to care what happens, least of all the director."),
    ("N", "This is not the comeback {actor} needed."),
    ("N", "I didn't believe a word anyone said."),
    ("N", "It doesn't work as a comedy or as a drama."),
    ("N", "Not even the great {actor} can save this script."),
    ("N", "None of the jokes land."),
    ("N", "I wouldn't recommend it to anyone."),
    ("N", "Not good, and not even bad in a fun way."),
    ("C", "Talented people, silly movie."),
    ("C", "The trailer looked great, but the film is a chore."),
    ("C", "It starts promisingly, then falls apart completely."),
    ("C", "The costumes are lovely, yet the story is hollow."),
    ("C", "{actress} tries hard, but the script gives her nothing."),
    ("C", "Beautiful to look at, but deadly dull."),
    ("C", "Some fine moments, though they're buried in two hours of filler."),
    ("C", "The premise is clever, but the execution is lazy."),
    ("C", "I wanted to love it, but it lost me halfway."),
    ("C", "The music is great, while everything else is forgettable."),
    ("C", "Great cast, terrible movie."),
    ("I", "Absolutely dreadful from start to finish."),
    ("I", "Easily the worst film I've seen this year."),
    ("I", "The acting is incredibly bad across the board."),
    ("I", "An utterly pointless remake."),
    ("I", "Painfully, relentlessly boring."),
    ("I", "Truly one of the most irritating films ever made."),
    ("I", "{actor} is completely lost in the role."),
    ("I", "Extremely long and deeply unpleasant."),
    ("H", "It's probably the weakest thing {director} has made."),
    ("HC", "I think it mostly fails, though I can see what it was going for."),
    ("H", "Somewhat disappointing, I'd say."),
    ("HC", "Perhaps it works for younger viewers, but I found it rather tiresome."),
    ("H", "It's kind of a mess, to be honest."),
    ("NHC", "Not quite as bad as people say, but still pretty bad."),
    ("H", "I suppose it had its moments, but I mostly felt let down."),
    ("S", "Oh great, another two hours of people staring out of windows."),
    ("S", "What a triumph: I only checked my watch eleven times."),
    ("S", "Brilliant, if your idea of fun is watching paint dry."),
    ("S", "Sure, because what the world needed was a fourth sequel."),
    ("S", "A masterpiece of wasting {actor}'s talent."),
    ("S", "I loved the part where it finally ended."),
    ("S", "Bold choice to make a thriller with no thrills."),
    ("S", "Congratulations to the editor, who clearly went home early."),
    ("S", "The best thing about it was the air conditioning in the theater."),
    ("S", "Wow, a twist I saw coming from the parking lot."),
    ("S", "Truly inspiring: it inspired me to leave."),
    ("S", "Five stars for the popcorn, none for the movie."),
]

CLOSERS_POS = [
    ("", "Go see it."),
    ("I", "Highly recommended."),
    ("", "8/10."),
    ("", "Four stars."),
    ("", "I'd watch it again tomorrow."),
    ("", "Bring tissues."),
    ("", "Worth every penny."),
    ("N", "Don't miss it on a big screen."),
    ("", "A solid 7 out of 10."),
    ("", "Can't wait to see what {director} does next."),
    ("", "I'm buying it on Blu-ray."),
    ("", "Go in blind if you can."),
    ("", "9/10 from me."),
    ("", "Recommended."),
]
CLOSERS_NEG = [
    ("", "Skip it."),
    ("", "Save your money."),
    ("", "3/10."),
    ("H", "Two stars, and that's generous."),
    ("NS", "Wait for streaming, or better yet, don't."),
    ("", "I want those two hours back."),
    ("", "Avoid."),
    ("", "1 out of 10."),
    ("", "Hard pass."),
    ("N", "Not recommended."),
    ("", "I walked out at the 90-minute mark."),
    ("", "What a shame."),
    ("", "2/10."),
    ("N", "Not worth the ticket."),
]

# Short verdicts on one aspect of a film, built from a small sentiment lexicon so the classifier
# meets each evaluative word in many contexts (see ``make_corpus._verdict``).
# fmt: off
ASPECTS = [
    "acting", "script", "score", "pacing", "ending", "dialogue", "cinematography", "direction",
    "story", "humor", "lead performance", "editing", "soundtrack", "plot", "villain", "finale",
    "writing", "camerawork", "production design", "supporting cast", "premise", "romance",
]
# fmt: on
# fmt: off
POSITIVE_WORDS = [
    "wonderful", "superb", "excellent", "gripping", "charming", "brilliant", "moving",
    "delightful", "terrific", "gorgeous", "clever", "touching", "hilarious", "thrilling",
    "elegant", "heartfelt", "inventive", "stunning", "lovely", "sharp", "fresh", "riveting",
    "tender", "powerful", "witty", "memorable", "beautiful", "masterful", "engaging", "great",
    "fantastic", "smart", "exciting", "satisfying", "impressive", "magical", "funny", "warm",
    "joyful", "haunting", "poignant", "compelling", "refreshing", "enjoyable", "entertaining",
    "perfect", "vivid", "graceful", "assured", "sweet", "playful", "absorbing", "breathtaking",
    "affecting", "remarkable", "sublime", "fun", "rewarding",
]
# fmt: on
# fmt: off
NEGATIVE_WORDS = [
    "awful", "dreadful", "tedious", "clumsy", "boring", "flat", "lifeless", "sloppy",
    "predictable", "forgettable", "dull", "bland", "messy", "lazy", "painful", "shallow",
    "irritating", "pointless", "terrible", "weak", "stale", "hollow", "clunky", "confusing",
    "amateurish", "grating", "uninspired", "mediocre", "tiresome", "ridiculous", "bad", "horrible",
    "annoying", "disappointing", "cheap", "lame", "tired", "cheesy", "overlong", "sluggish",
    "incoherent", "pretentious", "soulless", "wooden", "silly", "dumb", "ugly", "mindless",
    "lackluster", "unfunny", "contrived", "plodding", "overwrought", "joyless", "insufferable",
    "trite", "dreary", "muddled", "laughable", "embarrassing",
]
# fmt: on
# fmt: off
POSITIVE_VERBS = [
    "loved", "adored", "enjoyed", "admired", "was moved by", "was won over by", "was impressed by",
    "was delighted by", "savored", "fell for",
]
# fmt: on
# fmt: off
NEGATIVE_VERBS = [
    "hated", "disliked", "couldn't stand", "was bored by", "was annoyed by", "was let down by",
    "got tired of", "was irritated by", "regretted", "loathed",
]
# fmt: on
# fmt: off
INTENSIFIERS = [
    "really", "truly", "absolutely", "incredibly", "utterly", "remarkably", "genuinely", "deeply",
    "extremely", "so", "very", "completely",
]
# fmt: on
# fmt: off
HEDGES = [
    "fairly", "somewhat", "rather", "mostly", "kind of", "pretty",
]
# fmt: on
# fmt: off
HEDGE_TAILS = [
    ", I think", ", I suppose", ", mostly", ", more or less", ", if you ask me",
]
# fmt: on
# what the reviewer did or felt; {r} in a verdict takes one of the review's polarity
# fmt: off
POSITIVE_REACTIONS = [
    "I laughed all the way through", "I was grinning for hours afterwards", "the time flew by",
    "I stayed until the very last credit", "I was on the edge of my seat",
    "the whole audience cheered", "I want to see it again", "I was hooked from the first scene",
    "it stayed with me for days", "I was completely absorbed", "I cried in the best way",
    "I forgot to touch my popcorn", "I told everyone I know about it",
]
NEGATIVE_REACTIONS = [
    "I yawned all the way through", "I nearly fell asleep", "the time crawled by",
    "I walked out before the end", "I kept checking my watch", "the audience groaned",
    "I want my money back", "I lost interest after ten minutes", "I forgot it by the car park",
    "I was bored stiff", "I spent most of it on my phone", "I regretted buying a ticket",
    "I sat there wishing it would end",
]
# fmt: on
# (codes, template): {a}/{b} aspects, {w} a word of the review's polarity, {x} of the opposite
# polarity, {i} intensifier, {h} hedge, {t} hedge tail, {v}/{xv} verbs of either polarity,
# {aw} "a"/"an" + {w}; capitalized forms start a sentence
VERDICTS = [
    ("", "The {a} is {w}."),
    ("", "{W} {a}, {w2} {b}."),
    ("", "Such {w} {a}."),
    ("I", "The {a} is {i} {w}."),
    ("I", "{I} {w} {a}, and {i} {w2} {b} too."),
    ("H", "The {a} is {h} {w}{t}."),
    ("H", "I found the {a} {h} {w}."),
    ("N", "The {a} is not {x} at all."),
    ("N", "Nothing about the {a} is {x}."),
    ("N", "I wouldn't call the {a} {x}."),
    ("N", "The {a} is never {x}."),
    ("C", "The {a} is {x}, but the {b} is {w}."),
    ("C", "Although the {a} is {x}, the {b} is {i} {w}."),
    ("C", "The {b} is {w}, even if the {a} is {x}."),
    ("C", "{X} {a}, yet {w} {b}."),
    ("NC", "The {a} isn't {x}, and the {b} is {w}."),
    ("HC", "The {a} is {h} {x}, but the {b} is {i} {w}."),
    ("", "I {v} the {a}."),
    ("I", "I {i} {v} the {a}."),
    ("C", "I {xv} the {a}, but I {v} the {b}."),
    ("C", "I {v} the {b}, even though I {xv} the {a}."),
    ("", "{AW} film."),
    ("", "Overall, {aw} movie."),
    ("I", "{AIW} film from start to finish."),
    ("N", "Not {ax} film in the slightest."),
    ("C", "{AX} start, but {aw} film overall."),
    ("H", "Probably {aw} film, all things considered."),
    ("NH", "I wouldn't say it's {ax} movie, honestly."),
    ("", "{R}."),
    ("", "Honestly, {r}."),
    ("I", "{I} {w} {a}; {r}."),
    ("C", "{AX} {a}, but {r}."),
    ("H", "I think {r}."),
]
# ratings for the closer slot: (scores out of five, scores out of ten) per polarity
STAR_WORDS = ["One", "Two", "Three", "Four", "Five"]
RATINGS_POS = ([4, 5], [7, 8, 9, 10])
RATINGS_NEG = ([1, 2], [1, 2, 3, 4])
