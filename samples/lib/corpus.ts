/**
 * A fixed English text the sample Qwen2 tokenizer learns its merges from. Changing a single
 * character changes the merges, the vocab and therefore every generated Qwen2 sample.
 */
export const MERGE_CORPUS = `Once upon a time there was a small town by the sea. The people of the town woke up early every morning.
They walked to the harbor to see the boats come in with fish, and the children ran along the sand to look for shells.
In the middle of the town there was a bakery. The baker was an old man named Tom who made the best bread in the land.
Every day he baked bread, cakes and little sweet rolls, and every day the children came to his door to ask for one.
"Good morning, Tom!" they said. "Good morning, children," he said, and he gave each of them a warm roll.

One day a storm came from the sea. The wind was strong and the rain fell for three days and three nights.
The boats could not go out, and the people stayed in their houses. The children looked out of the windows and waited.
When the storm was over, the sun came out again. The people went down to the harbor to see what the sea had left.
They found wood, rope, a broken boat and a big wooden box. Nobody knew where the box had come from.
The children wanted to open it, but their mothers said, "Wait for the others. We will open it together."

So the whole town came to the harbor. Tom the baker came too, with a basket of bread for everyone.
The oldest fisherman took a hammer and opened the box. Inside there were books, many old books with pictures of ships,
maps of faraway islands, and stories about people who lived on the other side of the sea.
The children were very happy. They sat on the sand and read the stories out loud to each other.
From that day on, the town had a library by the harbor, and the children read there every afternoon after school.

The model reads text as tokens. A token can be a whole word, a part of a word, a number or a single byte.
We learn the merges from this text: the pairs that appear most often are joined first, then pairs of those pairs.
Numbers such as 1, 2, 3, 10, 42, 256 and 2024 are split into single digits before any merge is learned.
Punctuation like commas, periods, question marks? and exclamation marks! stays apart from the words.
Words like don't, can't, it's, we're, they've, I'm, you'll and she'd keep their endings as separate pieces.

She said that the weather would be better tomorrow, and that they should all go for a walk in the hills.
He thought about it for a while and then agreed. They packed some food, some water and a warm coat for each of them.
The path went up through the green fields, past the old farm and into the forest where the tall trees grew.
At the top of the hill they could see the whole town, the harbor, the boats and the wide blue sea beyond.
They sat down, ate their food and talked about the box, the books and the stories until the sun went down.

A helpful assistant answers questions clearly and politely. The user asks a question, and the assistant gives an answer.
The system message tells the assistant how to behave. The assistant should be honest, careful and kind.
What is the capital of France? The capital of France is Paris. How many legs does a spider have? A spider has eight legs.
What color is the sky on a clear day? The sky is blue. Which number comes after nine? Ten comes after nine.
Thank you for your help! You are welcome. Is there anything else I can help you with today?
`;
