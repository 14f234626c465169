// The small English text the synthetic tokenizer learns its BPE merges from. Changing it
// changes every synthesized vocabulary, so it is fixed.
#include <string_view>

namespace trapetum {

std::string_view synth_training_text() {
  return R"(The morning was cold and clear, and the light came slowly over the hills. In the village the
first bakers were already at work, and the smell of fresh bread drifted down the narrow streets. A
small boy named Thomas walked to the river with his grandfather, who carried two old fishing rods and
a basket of bread and cheese. They talked about the weather, the price of apples at the market, and
the stories the old man had heard when he was young. "Do you think we will catch anything today?"
asked the boy. "If we are patient," said his grandfather, "the river will give us what we need."

People have always told stories to explain the world around them. Some stories are about the stars
and the seasons, others about families, journeys and the animals that share the land. A good story
has a beginning, a middle and an end, but the best ones also leave a question for the listener to
think about. Teachers use stories to make difficult ideas easier to understand, and scientists often
describe their work as a kind of story: a question, an experiment, a result, and then a new question.

Water boils at 100 degrees Celsius at sea level, but at higher places it boils at a lower
temperature because the air pressure is lower. This is why cooking takes longer in the mountains. A
simple experiment shows the effect: heat two pots of water, one with a lid and one without, and
measure the time each one needs to boil. The results will be different, and the reason is that the
lid keeps the heat and the steam inside the pot.

Computers store numbers as patterns of bits. A single bit can be zero or one, and eight bits make a
byte. Modern programs work with millions of numbers at the same time, so the way those numbers are
stored in memory matters a great deal for speed. When a model has seven billion parameters, every
parameter that takes two bytes instead of four saves a lot of memory, and the program can run faster
because it moves less data. Engineers measure this in gigabytes per second, and they compare the
measured speed with the limit of the hardware.

The city library opens at nine o'clock every day except Sunday. It has more than 200,000 books, a
quiet reading room, and a small garden where people can sit when the weather is warm. Children come
on Wednesday afternoons to hear stories, and older students come in the evening to study for their
exams. The librarians say that the most popular books are about history, cooking, travel and science,
but they also lend music, films and maps of the region.

She opened the window and looked at the garden. The flowers were growing well this year: red and
yellow tulips near the wall, white roses by the door, and a row of tall sunflowers that her daughter
had planted in the spring. "We should write down what worked," she said, "so that next year we can do
it again." They made a list of the seeds, the dates and the amount of water each plant needed, and
they kept it in a notebook on the kitchen table.

Good writing is clear, short and honest. It says what it means, it gives an example when an idea is
hard, and it does not hide the important part at the end. When you write instructions, think about
the person who will read them: what do they already know, what do they need to do first, and what
could go wrong? Test your instructions on a friend, watch where they stop, and then make that part
simpler. The same rules work for letters, reports, recipes and computer programs.

It was late in the evening when the train finally arrived at the station. The travellers were tired
but happy, and they walked together to a small hotel near the market square. The owner gave them
warm soup, bread and tea, and told them about the old castle on the hill, the festival in the summer,
and the best way to walk to the lake. They went to bed early, because the next day would be long.
)";
}

}  // namespace trapetum
