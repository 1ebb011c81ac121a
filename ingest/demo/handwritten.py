"""Fully hand-written demo reviews: (label, construction codes, text).

Written by the project for the demo corpus; names are invented. Codes as in ``snippets.py``
(N negation, C contrast, I intensifier, H hedge, S sarcasm). Placeholders such as ``{title}``
are filled by ``make_corpus.py`` with the invented names of ``snippets.py``.
"""

from __future__ import annotations

POSITIVE = [
    (
        "C",
        "I went in expecting a cheap cash-in on the first film and came out grinning. "
        "{title} is funnier, faster and kinder than it needs to be.",
    ),
    (
        "NCH",
        "Not the masterpiece some critics are calling it, but a really lovely little film. "
        "{actor} is the best thing in it.",
    ),
    (
        "",
        "My dad falls asleep during most films made after 1990. "
        "He stayed awake for all of this one, and so did I.",
    ),
    ("", "Quiet, patient and devastating. I've thought about the last shot every day since."),
    ("N", "Don't let the dreary poster put you off. This is one of the warmest comedies in years."),
    (
        "N",
        "I was ready to hate it. I didn't. "
        "The writing is sharp and the cast is clearly having a ball.",
    ),
    (
        "N",
        "It's a film about grief that never wallows, "
        "and a film about family that never gets sappy.",
    ),
    (
        "C",
        "{director} takes a premise that sounds ridiculous on paper, "
        "a talking goat in a courtroom, and turns it into something oddly moving.",
    ),
    (
        "CN",
        "The effects are modest and the sets look borrowed, "
        "but none of that matters once the story gets going.",
    ),
    ("N", "Two hours flew by. When the lights came up, nobody in our row moved."),
    ("I", "Lovely. Just lovely."),
    ("H", "Honestly? I think it's {actress}'s best work, and I've seen everything she's done."),
    (
        "N",
        "A thriller that respects your intelligence. "
        "Every clue is on screen, and I still didn't see the ending coming.",
    ),
    ("NS", "I'm not crying, you're crying."),
    (
        "CI",
        "The first hour is a slow burn that some people will find tedious. "
        "Stick with it; the payoff is enormous.",
    ),
    (
        "NI",
        "Sweet without being syrupy, smart without being smug. "
        "A near-perfect Saturday afternoon movie.",
    ),
    ("", "I have seen {title} three times now and it gets better each time."),
    ("C", "It's messy, sprawling and occasionally baffling, and I loved nearly every minute."),
    (
        "N",
        "The kind of film they supposedly don't make anymore: "
        "grown-up, funny, romantic and in no hurry.",
    ),
    ("", "Somehow {director} made a 3-hour film about a fishing village feel too short."),
    (
        "",
        "Gorgeous photography, a great score, "
        "and a lead performance that deserves every award going.",
    ),
    ("N", "I didn't think another zombie movie could surprise me. I was wrong."),
    ("NI", "It isn't flashy and it isn't trying to be. It's just very, very good."),
    ("NHCI", "Not for everyone, maybe, but absolutely for me."),
    ("CN", "The critics were lukewarm, and I honestly don't understand why. This was a blast."),
    ("", "Every performance lands, down to the kid who has two lines at the gas station."),
    ("HC", "Perhaps a touch too long, but otherwise a triumph."),
    (
        "",
        "{actor} and {actor2} have the easy chemistry of people "
        "who have known each other forever. I'd watch them read a phone book.",
    ),
    ("C", "The plot is predictable. The jokes are corny. I had the time of my life."),
    ("I", "Best 95 minutes I've spent in a cinema in ages."),
    ("N", "I can't stop humming the songs. Bring the whole family."),
    (
        "C",
        "What starts as a goofy heist comedy slowly turns into "
        "a genuinely touching story about friendship.",
    ),
    ("N", "Rarely has a film about chess been this tense. I was gripping the armrest."),
    ("N", "Not one actor phones it in, and the script gives each of them something to chew on."),
    ("H", "It's quiet and a bit strange, and I suspect it will stay with me for a long time."),
    ("CH", "The middle section sags slightly. Everything else is wonderful."),
    ("", "It made me want to call my mother, which is the highest praise I can give."),
    ("N", "Ten minutes in I was hooked, and it never let go."),
    ("I", "A small film with a very big heart. {actor} is a revelation."),
    ("C", "Honestly, the reviews undersold it. Funny, scary and surprisingly sad."),
    ("N", "I kept waiting for it to go wrong. It never did."),
    ("S", "Oh no, another movie that made me laugh, cry and call my sister. How terrible."),
    (
        "",
        "{director} finally makes good on all that early promise. "
        "This is confident, gorgeous filmmaking.",
    ),
    (
        "I",
        "The animation is stunning and the story is even better. "
        "My kids, aged 6 and 9, were silent the whole way through.",
    ),
    ("NC", "It's not a perfect film. It is, however, a perfect night out."),
    ("", "Strange, funny and unexpectedly beautiful. I'm still thinking about the ending."),
    ("HC", "I'd call it a minor film, but a minor film made with enormous care."),
    ("C", "Despite the silly title, {title} is a thoughtful, grown-up drama."),
    ("C", "Hard to describe, easy to love."),
    ("NC", "I didn't laugh once at the trailer and laughed constantly at the film."),
    ("", "Just see it. Trust me."),
    ("I", "The ending is bittersweet in the best possible way. I left the theater smiling."),
    (
        "C",
        "Its low budget shows in a few places, yet it's more inventive "
        "than anything the big studios put out this summer.",
    ),
    ("I", "Great performances, great music, great fun."),
    ("HC", "I suppose you could call it old-fashioned. I'd call it timeless."),
    ("I", "Ninety minutes of pure joy."),
    (
        "",
        "It took {director} seven years to make this, and you can see every one of them on screen.",
    ),
    ("H", "Fine, I admit it: the sequel is better than the original."),
    ("N", "No explosions, no car chases, no villains. Just people, beautifully observed."),
    ("", "A ghost story that's actually scary, which is rarer than you'd think."),
    (
        "C",
        "{actor_m} has made a lot of forgettable action movies. "
        "This is the one people will remember him for.",
    ),
    ("S", "I hope you like crying in public, because this one gets you in the last ten minutes."),
    ("", "I walked out of {title} and immediately bought tickets for my parents."),
    ("N", "It doesn't reinvent the genre. It just does everything in it beautifully."),
    ("C", "On paper it's a tired romantic comedy. On screen it's a delight."),
    ("S", "Be warned: you will want to move to the little town where it's set."),
    ("I", "{actress} is astonishing. Every look, every pause, every line."),
    ("H", "I'd probably rank it among the best films of the year."),
    ("NC", "It's not subtle, but it's so sincere that I didn't mind."),
    ("", "A love letter to old movie houses, and to the people who keep them running."),
    ("N", "There's no filler here: every scene moves the story or deepens a character."),
    ("C", "The second half is darker than the first, and it's all the better for it."),
    ("I", "An absolute crowd-pleaser. The audience applauded at the end."),
    ("", "I came for {actor} and stayed for the amazing supporting cast."),
    ("HC", "Some scenes run a bit long, I guess, but I was happy to stay in that world."),
    ("N", "You never quite know where it's going, and that's the fun of it."),
    ("", "The best comedy I've seen since I was a teenager."),
    ("S", "My face hurts from smiling. Thanks for nothing, {director}."),
    ("C", "The first trailer made it look grim. It's actually full of warmth and jokes."),
    ("I", "A beautifully made, deeply felt little drama."),
    ("N", "Nothing about it feels fake, from the kitchen arguments to the final goodbye."),
    ("", "Tight, tense and smart. This is how you make a thriller."),
    ("H", "It's maybe a notch below {director}'s best, which still makes it very good."),
    ("C", "It's a simple story, but it's told with so much love."),
    ("N", "I haven't stopped recommending it to friends since Friday."),
    ("", "Easily worth the trip to the cinema, and worth a second viewing too."),
    ("C", "Where the book was cold, the film is warm, funny and alive."),
]

NEGATIVE = [
    ("C", "A good actor but a dumb movie. {actor} deserved a much better script."),
    (
        "C",
        "I wanted to like it. The cast is great and the trailer was fun. "
        "The film itself is an exhausting mess.",
    ),
    ("", "Two and a half hours of shouting. I left with a headache."),
    ("NC", "Not terrible, just pointless."),
    ("C", "It looks expensive and feels cheap."),
    (
        "",
        "The twist is revealed in the first ten minutes, "
        "and then we wait another hundred for the characters to catch up.",
    ),
    ("C", "I love {director}'s early work, which makes this even harder to watch."),
    ("S", "Oh good, another superhero origin story. I was worried we might run out."),
    ("", "The jokes are mean, the romance is creepy and the ending makes no sense."),
    ("NC", "Not even the lovely score can rescue this."),
    ("HCI", "Maybe I was in the wrong mood, but I found it unbearably smug."),
    ("N", "Every character talks like a fortune cookie. Nobody on earth speaks like this."),
    ("N", "It's not a horror film if nothing is scary."),
    ("CI", "A beautiful cast, a beautiful location, and absolutely nothing to do with either."),
    ("N", "I counted four endings. None of them worked."),
    (
        "C",
        "Somewhere in here is a decent ninety-minute movie. Unfortunately, it runs over two hours.",
    ),
    ("", "The kind of film that mistakes being slow for being deep."),
    ("SI", "Well, that was a colossal waste of a Saturday."),
    ("C", "A lavish production in service of nothing. The script feels like a first draft."),
    ("CI", "Funny for about twenty minutes, then painfully repetitive."),
    ("N", "I didn't care about a single person on screen."),
    ("SN", "Wow. Just wow. I have never been so bored by an explosion."),
    ("CN", "{actress} is fine, but she can't hold together a film this confused."),
    ("I", "Pretentious, chilly and very, very long."),
    ("CS", "Loved the opening credits. It was all downhill from there."),
    ("S", "The comedy is so broad it could be seen from space."),
    (
        "HCN",
        "It's probably meant to be a satire, but I honestly couldn't tell what it was satirizing.",
    ),
    ("C", "The book was wonderful. This adaptation strips out everything that made it special."),
    ("N", "Not scary, not funny, not moving, not anything."),
    (
        "S",
        "If you enjoy watching characters make the dumbest possible decision for two hours, "
        "this is your movie.",
    ),
    ("", "Lazy, derivative and weirdly proud of itself."),
    ("C", "There are some nice shots of the coastline. That's about it."),
    ("HC", "I admire the ambition, sort of, but the film is a chore to sit through."),
    ("", "The dialogue made our whole row groan out loud, more than once."),
    ("C", "Somehow both overstuffed and empty."),
    ("", "It's the sort of film that thinks a shaky camera is a substitute for tension."),
    (
        "S",
        "{director} has made great films before. "
        "This one feels like it was made between lunch and a nap.",
    ),
    ("S", "Three writers are credited, and it shows."),
    ("S", "The lead has all the charisma of a parking meter."),
    ("NS", "Never have I wanted a villain to win so badly."),
    ("NHC", "Not quite a disaster, but close enough."),
    ("NC", "All style, no substance, and not much style either."),
    ("N", "The 3D adds nothing except a headache."),
    ("", "It's a film made by a committee, and it feels like it."),
    ("INC", "I really, really wanted this to be good. It isn't."),
    ("C", "A great trailer for a terrible movie."),
    ("", "Sadly, {actor} is wasted in a role that mostly involves frowning at computers."),
    ("HC", "The soundtrack is nice, I guess. Everything else is a mess."),
    ("C", "What a shame. The original was a small classic and this remake is just noise."),
    ("N", "I wouldn't even watch it on a plane."),
    ("CN", "The first scene is great. The next hundred minutes are not."),
    ("I", "Mind-numbingly dull. I fell asleep twice."),
    ("", "It wants to be a cult classic so badly that it forgets to be a film."),
    ("HCI", "Competent, I suppose, but completely forgettable."),
    (
        "",
        "The heroine makes one terrible choice after another, "
        "and the film treats each one as brave.",
    ),
    ("S", "Bravo to the marketing team for making this look watchable."),
    ("N", "A sluggish, joyless sequel that nobody asked for."),
    ("N", "I can't think of one reason to recommend it."),
    ("S", "Did anyone read this script before filming it?"),
    ("C", "Ambitious, sure. Also boring, shrill and far too pleased with itself."),
    (
        "C",
        "{title} has a fantastic first act. "
        "Then {actor_m} shows up as the villain and the whole thing turns silly.",
    ),
    ("S", "At 160 minutes, it is the longest nap I have ever paid for."),
    ("", "Sat through all of {title} so you don't have to."),
    ("N", "It doesn't have a single idea of its own."),
    ("C", "On paper it's a sharp political thriller. On screen it's a shouting match."),
    ("S", "A bold experiment in how long an audience can stay awake."),
    ("I", "{actress} is badly miscast, and she seems to know it."),
    ("H", "It's probably fine for a long flight, if there's nothing else on."),
    ("NC", "It's not offensive, but it's not entertaining either."),
    ("", "Every twist is telegraphed, every joke is explained, every feeling is underlined."),
    ("N", "There's no tension, no romance and no reason to care."),
    ("C", "The first half is merely dull. The second half is insulting."),
    ("I", "An utter chore. People were leaving before the halfway mark."),
    ("", "I came for {actor} and left wishing I had stayed home."),
    ("HC", "Parts of it were kind of pretty, I suppose, but it felt endless."),
    ("N", "You always know exactly where it's going, and it takes forever to get there."),
    ("", "The least funny comedy I've seen in years."),
    ("S", "Great news for insomniacs: the cure has finally arrived."),
    ("C", "The trailer promised a smart mystery. What we got is a pile of clichés."),
    ("I", "A deeply cynical, thoroughly unpleasant piece of work."),
    ("N", "Nothing about it feels real, from the accents to the ending."),
    ("", "Sloppy, sleepy and confused. This is how you ruin a thriller."),
    ("H", "It's maybe the weakest film in the series, and that's saying something."),
    ("C", "It's a simple story, but somehow it still makes no sense."),
    ("N", "I haven't been this disappointed by a sequel in years."),
    ("N", "Not worth the ticket price, and not worth a free stream either."),
    ("C", "Where the book was tense and surprising, the film is flat and obvious."),
]
